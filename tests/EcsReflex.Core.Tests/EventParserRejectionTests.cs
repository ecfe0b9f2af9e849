using System.Text;
using System.Text.Json.Nodes;
using EcsReflex.Core.Events;

namespace EcsReflex.Core.Tests;

public class EventParserRejectionTests
{
    private static JsonObject Sample(string file = "ecs-task-stopped-essential-exit-1.json") =>
        JsonNode.Parse(Repository.Event(file))!.AsObject();

    private static EventRejectedException Reject(string json) =>
        Assert.Throws<EventRejectedException>(() => EventParser.Parse(json));

    [Fact]
    public void WrongTypedExitCode_NamesThePathAndTheValue()
    {
        var e = Sample();
        e["detail"]!["containers"]![0]!["exitCode"] = "abc";
        var ex = Reject(e.ToJsonString());
        Assert.Equal(RejectionKind.WrongType, ex.Kind);
        Assert.Equal("detail.containers[0].exitCode", ex.Path);
        Assert.Equal("detail.containers[0].exitCode: expected a number, got \"abc\"", ex.Message);
    }

    [Theory]
    [InlineData("id", "id")]
    [InlineData("source", "source")]
    [InlineData("detail", "detail")]
    public void MissingEnvelopeField_IsAMissingFieldRejection(string field, string path)
    {
        var e = Sample();
        e.Remove(field);
        var ex = Reject(e.ToJsonString());
        Assert.Equal(RejectionKind.MissingField, ex.Kind);
        Assert.Equal(path, ex.Path);
    }

    [Theory]
    [InlineData("taskArn")]
    [InlineData("clusterArn")]
    [InlineData("lastStatus")]
    public void MissingRequiredTaskField_NamesIt(string field)
    {
        var e = Sample();
        e["detail"]!.AsObject().Remove(field);
        var ex = Reject(e.ToJsonString());
        Assert.Equal(RejectionKind.MissingField, ex.Kind);
        Assert.Equal($"detail.{field}", ex.Path);
    }

    [Fact]
    public void NullRequiredField_CountsAsMissing()
    {
        var e = Sample();
        e["detail"]!["taskArn"] = null;
        Assert.Equal(RejectionKind.MissingField, Reject(e.ToJsonString()).Kind);
    }

    [Fact]
    public void UnparseableTimestamp_IsInvalidValueWithPath()
    {
        var e = Sample();
        e["detail"]!["stoppedAt"] = "yesterday";
        var ex = Reject(e.ToJsonString());
        Assert.Equal(RejectionKind.InvalidValue, ex.Kind);
        Assert.Equal("detail.stoppedAt", ex.Path);
    }

    [Fact]
    public void DetailOfWrongType_IsWrongType()
    {
        var e = Sample();
        e["detail"] = "oops";
        var ex = Reject(e.ToJsonString());
        Assert.Equal(RejectionKind.WrongType, ex.Kind);
        Assert.Equal("detail", ex.Path);
    }

    [Theory]
    [InlineData("", RejectionKind.InvalidJson)]
    [InlineData("{", RejectionKind.InvalidJson)]
    [InlineData("not json", RejectionKind.InvalidJson)]
    [InlineData("[1,2]", RejectionKind.NotAnEvent)]
    [InlineData("42", RejectionKind.NotAnEvent)]
    [InlineData("{\"hello\":\"world\"}", RejectionKind.NotAnEvent)]
    public void NonEvents_AreClassified(string input, RejectionKind kind) => Assert.Equal(kind, Reject(input).Kind);

    [Fact]
    public void InvalidUtf8InAString_IsInvalidJson()
    {
        var bytes = Repository.Event("ecs-task-stopped-essential-exit-1.json");
        var text = Encoding.UTF8.GetString(bytes);
        var at = text.IndexOf("\"STOPPED\"", StringComparison.Ordinal) + 2;
        var mutated = bytes.ToArray();
        mutated[at] = 0xC3; mutated[at + 1] = 0x28; // an invalid two-byte sequence
        var ex = Assert.Throws<EventRejectedException>(() => EventParser.Parse(mutated));
        Assert.Equal(RejectionKind.InvalidJson, ex.Kind);
    }

    [Fact]
    public void DeepNesting_IsRejectedNotAStackOverflow()
    {
        var deep = "{\"source\":\"aws.ecs\",\"x\":" + new string('[', 5000) + new string(']', 5000) + "}";
        Assert.Equal(RejectionKind.InvalidJson, Reject(deep).Kind);
    }

    [Fact]
    public void UnknownDetailType_IsUnsupportedNotAnError()
    {
        var e = Sample();
        e["detail-type"] = "ECS Something New";
        var parsed = EventParser.Parse(e.ToJsonString());
        var u = Assert.IsType<UnsupportedDetail>(parsed.Detail);
        Assert.Equal("ECS Something New", u.DetailType);
    }

    [Fact]
    public void AlarmConfigurationChange_IsNotMistakenForAStateChange()
    {
        var e = Sample("cloudwatch-alarm-alarm-web-cpu-high.json");
        e["detail-type"] = "CloudWatch Alarm Configuration Change";
        Assert.IsType<UnsupportedDetail>(EventParser.Parse(e.ToJsonString()).Detail);
    }

    [Fact]
    public void MismatchedSource_IsUnsupported()
    {
        var e = Sample();
        e["source"] = "aws.ec2";
        Assert.IsType<UnsupportedDetail>(EventParser.Parse(e.ToJsonString()).Detail);
    }

    [Fact]
    public void UnknownFieldsAndNulls_AreTolerated()
    {
        var e = Sample();
        e["detail"]!["somethingNew"] = new JsonObject { ["x"] = 1 };
        e["detail"]!["group"] = null;
        e["region"] = null;
        e.Remove("time");
        var t = Assert.IsType<TaskStateChange>(EventParser.Parse(e.ToJsonString()).Detail);
        Assert.Null(t.Group);
        Assert.Null(EventParser.Parse(e.ToJsonString()).Time);
    }

    [Fact]
    public void MissingTime_FallsBackToTheDetailsTimestamp()
    {
        var e = Sample();
        e.Remove("time");
        var parsed = EventParser.Parse(e.ToJsonString());
        Assert.Equal(((TaskStateChange)parsed.Detail).UpdatedAt, parsed.EffectiveTime);
    }

    [Fact]
    public void CpuAndMemory_AreReadAsTheStringsAwsWrites()
    {
        var e = Sample();
        e["detail"]!["cpu"] = "512";
        e["detail"]!["memory"] = "1024";
        var t = (TaskStateChange)EventParser.Parse(e.ToJsonString()).Detail;
        Assert.Equal(("512", "1024"), (t.Cpu, t.Memory));
    }

    // A number in quotes, or a string where AWS writes a number, is wrong-type: EventParserTypeTests, per field family.

    [Fact]
    public void ReasonDataThatIsNotJson_MeansNoDatapoint()
    {
        var e = Sample("cloudwatch-alarm-alarm-web-cpu-high.json");
        e["detail"]!["state"]!["reasonData"] = "{not json";
        var a = (AlarmStateChange)EventParser.Parse(e.ToJsonString()).Detail;
        Assert.Null(a.State.ReasonData);
        Assert.Equal("{not json", a.State.ReasonDataJson);
    }

    [Fact]
    public void ReasonDataWithWrongTypedDatapoints_NamesTheNestedPath()
    {
        var e = Sample("cloudwatch-alarm-alarm-web-cpu-high.json");
        e["detail"]!["state"]!["reasonData"] = "{\"recentDatapoints\":[\"high\"],\"threshold\":70}";
        var ex = Reject(e.ToJsonString());
        Assert.Equal("detail.state.reasonData.recentDatapoints[0]", ex.Path);
    }
}

public class StringPoolTests
{
    [Fact]
    public void PooledParse_GivesEqualEvents_AndSharesRepeatedStrings()
    {
        var pool = new StringPool();
        var bytes = Repository.Event("ecs-task-stopped-essential-exit-1.json");
        var a = (TaskStateChange)EventParser.Parse(bytes, pool).Detail;
        var b = (TaskStateChange)EventParser.Parse(bytes, pool).Detail;
        var plain = (TaskStateChange)EventParser.Parse(bytes).Detail;
        Assert.Equal(plain.ClusterArn, a.ClusterArn);
        Assert.Equal(plain.Containers[0].Name, a.Containers[0].Name);
        Assert.Same(a.ClusterArn, b.ClusterArn);
        Assert.Same(a.TaskDefinitionArn, b.TaskDefinitionArn);
    }

    [Fact]
    public void PooledParse_StillRejectsInvalidUtf8()
    {
        var text = System.Text.Encoding.UTF8.GetString(Repository.Event("ecs-task-stopped-essential-exit-1.json"));
        var bytes = System.Text.Encoding.UTF8.GetBytes(text).ToList();
        bytes.InsertRange(System.Text.Encoding.UTF8.GetByteCount(text[..(text.IndexOf("\"STOPPED\"", StringComparison.Ordinal) + 1)]), new byte[] { 0xFF });
        var ex = Assert.Throws<EventRejectedException>(() => EventParser.Parse(bytes.ToArray(), new StringPool()));
        Assert.Equal(RejectionKind.InvalidJson, ex.Kind);
    }

    [Fact]
    public void ThePool_BoundsItsMemory_ByReplacingSlots()
    {
        var pool = new StringPool(slots: 4);
        for (var i = 0; i < 1000; i++) Assert.Equal($"value-{i}", pool.Get(System.Text.Encoding.UTF8.GetBytes($"value-{i}")));
    }

    [Theory]
    [InlineData("arn:aws:ecs:us-east-1:123456789012:task/prod/{0:x32}")]                                  // differ at the end
    [InlineData("arn:aws:ecs:us-east-1:123456789012:container-instance/prod/{0:x8}0123456789abcdef01234567")] // differ in the middle
    [InlineData("{0}")]                                                                                    // short
    public void ThePool_SpreadsValuesThatShareMostOfTheirBytes_OverItsSlots(string format)
    {
        // 400 distinct values in 4,096 slots: with a hash that reads every byte that differs, few share a slot, so nearly
        // all come back as the very string first stored (a random spread keeps about 380). A hash blind to where they differ would put them all in one slot.
        var pool = new StringPool();
        var values = Enumerable.Range(0, 400).Select(i => string.Format(System.Globalization.CultureInfo.InvariantCulture, format, i)).ToList();
        var first = values.Select(v => pool.Get(System.Text.Encoding.UTF8.GetBytes(v))!).ToList();
        var kept = values.Where((v, i) => ReferenceEquals(first[i], pool.Get(System.Text.Encoding.UTF8.GetBytes(v)))).Count();
        Assert.True(kept >= 340, $"only {kept} of 400 values kept their slot");
    }
}
