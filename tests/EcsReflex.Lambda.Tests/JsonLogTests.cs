using System.Text;
using System.Text.Json;
using EcsReflex.Lambda.Logging;

namespace EcsReflex.Lambda.Tests;

public class JsonLogTests
{
    private sealed class Lines : ILineWriter
    {
        public List<string> Written { get; } = [];
        public void WriteLine(ReadOnlySpan<byte> utf8) => Written.Add(Encoding.UTF8.GetString(utf8));
    }

    [Fact]
    public void LogLine_WritesTextAsWritten_EscapingOnlyWhatJsonRequires()
    {
        var lines = new Lines();
        var log = new JsonLog(lines, TimeProvider.System, "service-scaler");
        const string reason = "cpu 87.5 (threshold 70, +17.5) → step +1: it's <web> & \"api\"\n";

        log.Information(reason, w => w.WriteString("reason", reason));

        var line = Assert.Single(lines.Written);
        Assert.Contains("(threshold 70, +17.5) → step +1: it's <web> & \\\"api\\\"\\n", line);
        Assert.DoesNotContain("\\u", line);
        using var doc = JsonDocument.Parse(line);
        Assert.Equal(reason, doc.RootElement.GetProperty("message").GetString());
        Assert.Equal(reason, doc.RootElement.GetProperty("reason").GetString());
    }
}
