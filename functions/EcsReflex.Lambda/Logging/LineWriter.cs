namespace EcsReflex.Lambda.Logging;

/// <summary>Where log and metric lines go: stdout in Lambda (CloudWatch Logs reads it), a list in tests.</summary>
public interface ILineWriter
{
    /// <summary>Writes one line (UTF-8, without its newline) in one piece.</summary>
    void WriteLine(ReadOnlySpan<byte> utf8);
}

/// <summary>Writes each line with its newline in one write, flushed, so lines never interleave.</summary>
public sealed class StreamLineWriter(Stream stream) : ILineWriter
{
    private readonly object _gate = new();
    private byte[] _buffer = new byte[4096];

    public void WriteLine(ReadOnlySpan<byte> utf8)
    {
        lock (_gate)
        {
            if (_buffer.Length < utf8.Length + 1) _buffer = new byte[Math.Max(utf8.Length + 1, _buffer.Length * 2)];
            utf8.CopyTo(_buffer);
            _buffer[utf8.Length] = (byte)'\n';
            stream.Write(_buffer, 0, utf8.Length + 1);
            stream.Flush();
        }
    }
}

/// <summary>Keeps the lines: tests parse them.</summary>
public sealed class RecordingLineWriter : ILineWriter
{
    private readonly List<string> _lines = [];
    public IReadOnlyList<string> Lines { get { lock (_lines) return [.. _lines]; } }
    public void WriteLine(ReadOnlySpan<byte> utf8)
    {
        lock (_lines) _lines.Add(System.Text.Encoding.UTF8.GetString(utf8));
    }
}
