namespace EcsReflex.Infra.Tests;

/// <summary>
/// The matcher against EventBridge's documented semantics (the user guide's event pattern, array, null value and
/// content filtering pages), each case with the event it should and should not match; the missing-field cases first,
/// since the stack's narrowed rules depend on them.
/// </summary>
public class EventPatternMatcherTests
{
    private static bool M(string pattern, string @event) => EventPatternMatcher.Matches(pattern, @event);

    public static TheoryData<string, string, string, bool> Cases => new()
    {
        // ---- a field the pattern names must be in the event; only exists:false matches its absence
        { "exact value, field missing", """{"detail":{"state":["running"]}}""", """{"detail":{}}""", false },
        { "prefix, field missing", """{"detail":{"group":[{"prefix":"family:"}]}}""", """{"detail":{}}""", false },
        { "anything-but, field missing", """{"detail":{"state":[{"anything-but":"stopped"}]}}""", """{"detail":{}}""", false },
        { "anything-but prefix, field missing", """{"detail":{"group":[{"anything-but":{"prefix":"service:"}}]}}""", """{"detail":{}}""", false },
        { "anything-but list, field missing", """{"detail":{"state":[{"anything-but":["a","b"]}]}}""", """{"detail":{}}""", false },
        { "exists false, field missing", """{"detail":{"c-count":[{"exists":false}]}}""", """{"detail":{"state":"x"}}""", true },
        { "exists false, field present", """{"detail":{"c-count":[{"exists":false}]}}""", """{"detail":{"c-count":5}}""", false },
        { "exists true, field present", """{"detail":{"state":[{"exists":true}]}}""", """{"detail":{"state":"pending"}}""", true },
        { "exists true, field missing", """{"detail":{"state":[{"exists":true}]}}""", """{"detail":{"c-count":{"c1":100}}}""", false },
        { "exists false, the parent object missing", """{"detail":{"c-count":[{"exists":false}]}}""", """{"source":"aws.ec2"}""", true },
        { "exists false, not a leaf (an object)", """{"detail":{"c-count":[{"exists":false}]}}""", """{"detail":{"c-count":{"c1":100}}}""", true },
        { "anything-but prefix or missing: missing", """{"detail":{"group":[{"anything-but":{"prefix":"service:"}},{"exists":false}]}}""", """{"detail":{}}""", true },
        { "anything-but prefix or missing: other", """{"detail":{"group":[{"anything-but":{"prefix":"service:"}},{"exists":false}]}}""", """{"detail":{"group":"family:x"}}""", true },
        { "anything-but prefix or missing: excluded", """{"detail":{"group":[{"anything-but":{"prefix":"service:"}},{"exists":false}]}}""", """{"detail":{"group":"service:web"}}""", false },
        { "a nested pattern, the object missing", """{"detail":{"trigger":{"risk":[8]}}}""", """{"detail":{}}""", false },

        // ---- exact values, or within a field, and across fields
        { "exact string", """{"source":["aws.ec2"]}""", """{"source":"aws.ec2"}""", true },
        { "exact string is case-sensitive", """{"source":["aws.ec2"]}""", """{"source":"AWS.EC2"}""", false },
        { "any value of the list", """{"source":["aws.ec2","aws.fargate"]}""", """{"source":"aws.fargate"}""", true },
        { "none of the list", """{"source":["aws.ec2","aws.fargate"]}""", """{"source":"aws.ecs"}""", false },
        { "every field must match", """{"source":["aws.ec2"],"detail":{"state":["terminated"]}}""", """{"source":"aws.ec2","detail":{"state":"running"}}""", false },
        { "fields not in the pattern are ignored", """{"detail":{"state":["terminated"]}}""", """{"id":"1","detail":{"state":"terminated","x":1}}""", true },
        { "nested objects", """{"detail":{"risk-score":[80],"trigger":{"risk":[8]}}}""", """{"detail":{"risk-score":80,"trigger":{"risk":8,"alert-type":"basic"}}}""", true },
        { "nested objects, a nested value differs", """{"detail":{"trigger":{"risk":[8]}}}""", """{"detail":{"trigger":{"risk":9}}}""", false },
        { "numbers by their text: 300 is not 300.0", """{"detail":{"x":[300]}}""", """{"detail":{"x":300.0}}""", false },
        { "numbers, the same text", """{"detail":{"x":[300]}}""", """{"detail":{"x":300}}""", true },
        { "a number is not its string", """{"detail":{"x":[300]}}""", """{"detail":{"x":"300"}}""", false },
        { "null matches null", """{"detail":{"responseElements":[null]}}""", """{"detail":{"responseElements":null}}""", true },
        { "null does not match an empty string", """{"detail":{"responseElements":[null]}}""", """{"detail":{"responseElements":""}}""", false },
        { "an empty string does not match null", """{"detail":{"eventVersion":[""]}}""", """{"detail":{"eventVersion":null}}""", false },
        { "null does not match a missing field", """{"detail":{"responseElements":[null]}}""", """{"detail":{}}""", false },
        { "booleans", """{"detail":{"agentConnected":[false]}}""", """{"detail":{"agentConnected":false}}""", true },

        // ---- an array in the event matches when any element does
        { "event array, one element matches", """{"resources":["arn:b"]}""", """{"resources":["arn:a","arn:b"]}""", true },
        { "event array, none matches", """{"resources":["arn:c"]}""", """{"resources":["arn:a","arn:b"]}""", false },
        { "event array, suffix of one element", """{"resources":[{"suffix":":service/prod/web"}]}""", """{"resources":["x","arn:aws:ecs:r:1:service/prod/web"]}""", true },
        { "empty event array", """{"resources":["arn:a"]}""", """{"resources":[]}""", false },

        // ---- prefix, suffix: strings only
        { "prefix", """{"time":[{"prefix":"2017-10-02"}]}""", """{"time":"2017-10-02T18:43:48Z"}""", true },
        { "prefix, not", """{"time":[{"prefix":"2017-10-02"}]}""", """{"time":"2017-10-03T18:43:48Z"}""", false },
        { "prefix, not on a number", """{"detail":{"x":[{"prefix":"3"}]}}""", """{"detail":{"x":300}}""", false },
        { "suffix", """{"detail":{"clusterArn":[{"suffix":":cluster/batch"}]}}""", """{"detail":{"clusterArn":"arn:aws:ecs:r:1:cluster/batch"}}""", true },
        { "suffix, not", """{"detail":{"clusterArn":[{"suffix":":cluster/batch"}]}}""", """{"detail":{"clusterArn":"arn:aws:ecs:r:1:cluster/batch2"}}""", false },
        { "exact or suffix", """{"detail":{"clusterArn":["arn:p",{"suffix":":cluster/batch"}]}}""", """{"detail":{"clusterArn":"arn:p"}}""", true },

        // ---- anything-but: a string, a number, a list, a prefix
        { "anything-but string, other", """{"detail":{"state":[{"anything-but":"initializing"}]}}""", """{"detail":{"state":"running"}}""", true },
        { "anything-but string, the same", """{"detail":{"state":[{"anything-but":"initializing"}]}}""", """{"detail":{"state":"initializing"}}""", false },
        { "anything-but number, other", """{"detail":{"x-limit":[{"anything-but":123}]}}""", """{"detail":{"x-limit":124}}""", true },
        { "anything-but number, the same", """{"detail":{"x-limit":[{"anything-but":123}]}}""", """{"detail":{"x-limit":123}}""", false },
        { "anything-but list, other", """{"detail":{"state":[{"anything-but":["stopped","overloaded"]}]}}""", """{"detail":{"state":"running"}}""", true },
        { "anything-but list, in it", """{"detail":{"state":[{"anything-but":["stopped","overloaded"]}]}}""", """{"detail":{"state":"overloaded"}}""", false },
        { "anything-but number list, in it", """{"detail":{"x-limit":[{"anything-but":[100,200,300]}]}}""", """{"detail":{"x-limit":200}}""", false },
        { "anything-but prefix, other", """{"detail":{"state":[{"anything-but":{"prefix":"init"}}]}}""", """{"detail":{"state":"running"}}""", true },
        { "anything-but prefix, has it", """{"detail":{"state":[{"anything-but":{"prefix":"init"}}]}}""", """{"detail":{"state":"initializing"}}""", false },
        { "anything-but string, a null value (not said: no)", """{"detail":{"state":[{"anything-but":"x"}]}}""", """{"detail":{"state":null}}""", false },
        { "exists, a null value (not said: neither)", """{"detail":{"state":[{"exists":false}]}}""", """{"detail":{"state":null}}""", false },
        { "null or exists false, a null value", """{"detail":{"state":[{"exists":false},null]}}""", """{"detail":{"state":null}}""", true },
    };

    [Theory]
    [MemberData(nameof(Cases))]
    public void Matches_FollowsEventBridgesDocumentedSemantics(string because, string pattern, string @event, bool expected) =>
        Assert.True(expected == M(pattern, @event), $"{because}: expected {(expected ? "a match" : "no match")}");

    [Theory]
    [InlineData("""{"detail":{"x":[{"numeric":[">",0]}]}}""")]
    [InlineData("""{"detail":{"x":[{"wildcard":"a*"}]}}""")]
    [InlineData("""{"$or":[{"a":["1"]},{"b":["2"]}]}""")]
    [InlineData("""{"detail":{"x":[{"anything-but":{"wildcard":"a*"}}]}}""")]
    public void Matches_AnOperatorItDoesNotImplement_Throws(string pattern) =>
        Assert.Throws<NotSupportedException>(() => M(pattern, """{"detail":{"x":"a"}}"""));

    [Theory]
    [InlineData("""{"detail":{"x":"a"}}""")]
    [InlineData("""["a"]""")]
    public void Matches_APatternThatIsNotArraysOfMatchers_Throws(string pattern) =>
        Assert.Throws<ArgumentException>(() => M(pattern, """{"detail":{"x":"a"}}"""));
}
