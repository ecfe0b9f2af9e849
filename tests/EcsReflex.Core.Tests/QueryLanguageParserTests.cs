using CsCheck;
using EcsReflex.Core.Placement;

namespace EcsReflex.Core.Tests;

public class QueryLanguageParserTests
{
    // The example expressions of the AWS documentation ("Cluster query language"), each with the
    // canonical text the parser gives back (symbol operators, single spaces, lists as [a, b]).
    public static TheoryData<string, string> DocumentationExamples => new()
    {
        { "attribute:ecs.instance-type == t2.small", "attribute:ecs.instance-type == t2.small" },
        { "attribute:ecs.availability-zone in [us-east-1a, us-east-1b]", "attribute:ecs.availability-zone in [us-east-1a, us-east-1b]" },
        { "attribute:ecs.instance-type =~ g2.* and attribute:ecs.availability-zone != us-east-1d", "attribute:ecs.instance-type =~ g2.* and attribute:ecs.availability-zone != us-east-1d" },
        { "task:group == service:production", "task:group == service:production" },
        { "not(task:group == database)", "not (task:group == database)" },
        { "runningTasksCount == 1", "runningTasksCount == 1" },
        { "agentVersion < 1.14.5", "agentVersion < 1.14.5" },
        { "registeredAt < 2018-02-13", "registeredAt < 2018-02-13" },
        { "ec2InstanceId in ['i-abcd1234', 'i-wxyx7890']", "ec2InstanceId in [i-abcd1234, i-wxyx7890]" },
        { "(attribute:ecs.os-type == linux or attribute:ecs.os-type == windows) and runningTasksCount < 5",
          "(attribute:ecs.os-type == linux or attribute:ecs.os-type == windows) and runningTasksCount < 5" },
        { "attribute:ecs.instance-type =~ t2.*", "attribute:ecs.instance-type =~ t2.*" },
        { "agentConnected == false", "agentConnected == false" },
        { "registeredAt >= 2018-06-18T22:28:28+00:00", "registeredAt >= 2018-06-18T22:28:28+00:00" },
    };

    [Theory]
    [MemberData(nameof(DocumentationExamples))]
    public void Parse_DocumentationExample_GivesItsCanonicalText(string expression, string canonical)
    {
        Assert.Equal(canonical, QueryParser.Parse(expression).ToString());
    }

    public static TheoryData<string, string> WordForms => new()
    {
        { "attribute:ecs.instance-type equals t2.small", "attribute:ecs.instance-type == t2.small" },
        { "attribute:ecs.instance-type not_equals t2.small", "attribute:ecs.instance-type != t2.small" },
        { "runningTasksCount greater_than 1", "runningTasksCount > 1" },
        { "runningTasksCount greater_than_equal 1", "runningTasksCount >= 1" },
        { "runningTasksCount less_than 1", "runningTasksCount < 1" },
        { "runningTasksCount less_than_equal 1", "runningTasksCount <= 1" },
        { "attribute:stack exists", "attribute:stack exists" },
        { "attribute:stack not_exists", "attribute:stack !exists" },
        { "attribute:stack !exists", "attribute:stack !exists" },
        { "ec2InstanceId not_in [i-1, i-2]", "ec2InstanceId !in [i-1, i-2]" },
        { "ec2InstanceId !in [i-1,i-2]", "ec2InstanceId !in [i-1, i-2]" },
        { "attribute:ecs.instance-type matches m5.*", "attribute:ecs.instance-type =~ m5.*" },
        { "attribute:ecs.instance-type not_matches m5.*", "attribute:ecs.instance-type !~ m5.*" },
        { "runningTasksCount == 1 && runningTasksCount == 2 || runningTasksCount == 3", "runningTasksCount == 1 and runningTasksCount == 2 or runningTasksCount == 3" },
        { "!(runningTasksCount == 1)", "not (runningTasksCount == 1)" },
        { "NOT runningTasksCount == 1 AND runningTasksCount == 2", "not (runningTasksCount == 1) and runningTasksCount == 2" },
        { "runningTasksCount==1", "runningTasksCount == 1" },
        { "attribute:ecs.instance-type =~ (t2|m5).*", "attribute:ecs.instance-type =~ (t2|m5).*" },
        { "attribute:team == 'data platform'", "attribute:team == 'data platform'" },
        { "attribute:team == \"it's\"", "attribute:team == it's" },
        { "attribute:team == 'it\\'s here'", "attribute:team == 'it\\'s here'" },
    };

    [Theory]
    [MemberData(nameof(WordForms))]
    public void Parse_WordFormsAndSpellings_MeanTheSymbolForm(string expression, string canonical)
    {
        Assert.Equal(canonical, QueryParser.Parse(expression).ToString());
    }

    [Fact]
    public void Parse_AndBindsTighterThanOr()
    {
        var e = QueryParser.Parse("runningTasksCount == 1 or runningTasksCount == 2 and runningTasksCount == 3");
        var or = Assert.IsType<QueryOr>(e);
        Assert.IsType<QueryComparison>(or.Left);
        Assert.IsType<QueryAnd>(or.Right);
    }

    [Fact]
    public void Parse_ListValues_AreUnquoted()
    {
        var c = Assert.IsType<QueryComparison>(QueryParser.Parse("ec2InstanceId in ['i-abcd1234', \"i-wxyx7890\", i-3]"));
        Assert.Equal(["i-abcd1234", "i-wxyx7890", "i-3"], c.Values);
        Assert.Equal(QuerySubjectKind.Ec2InstanceId, c.Subject.Kind);
        Assert.Equal(QueryOperator.In, c.Operator);
    }

    // Malformed expressions: the 1-based character the error points at, and words the message must contain.
    public static TheoryData<string, int, string> Malformed => new()
    {
        { "", 1, "empty" },
        { "   ", 1, "empty" },
        { "attribute:ecs.instance-type", 28, "expected an operator after attribute:ecs.instance-type" },
        { "attribute:ecs.instance-type = t2.small", 29, "\"=\" is not an operator" },
        { "attribute:ecs.instance-type is t2.small", 29, "found \"is\"" },
        { "instance-type == t2.small", 1, "\"instance-type\" is not a subject" },
        { "ecs.instance-type == t2.small", 1, "did you mean attribute:ecs.instance-type" },
        { "attribute: == x", 11, "needs an attribute name" },
        { "attribute:ecs.instance-type == ", 32, "expected a value" },
        { "attribute:ecs.availability-zone in us-east-1a", 36, "needs a list in brackets" },
        { "attribute:ecs.availability-zone in [us-east-1a, us-east-1b", 59, "never closed" },
        { "attribute:ecs.availability-zone in [us-east-1a us-east-1b]", 48, "expected , or ]" },
        { "attribute:ecs.availability-zone in []", 37, "empty" },
        { "ec2InstanceId == [i-1, i-2]", 18, "use in or !in" },
        { "(runningTasksCount == 1", 24, "never closed" },
        { "runningTasksCount == 1)", 23, "closes no (" },
        { "runningTasksCount == 1 runningTasksCount == 2", 24, "expected and, or" },
        { "runningTasksCount == 1 and", 27, "ends where a comparison should follow" },
        { "and runningTasksCount == 1", 1, "expected a comparison" },
        { "runningTasksCount == one", 22, "whole number" },
        { "runningTasksCount =~ 1.*", 19, "runningTasksCount does not take =~" },
        { "registeredAt < yesterday", 16, "not a date" },
        { "registeredAt < 2018-02-30", 16, "not a date" },
        { "agentConnected == yes", 19, "true or false" },
        { "agentVersion >= latest", 17, "not an agent version" },
        { "ec2InstanceId > i-1", 15, "ec2InstanceId does not take >" },
        { "attribute:ecs.instance-type =~ t2.(", 32, "not a valid pattern" },
        { "attribute:team == 'data platform", 19, "never closed" },
        { "not", 4, "ends where a comparison should follow" },
        { "== t2.small", 1, "expected a comparison" },
    };

    [Theory]
    [MemberData(nameof(Malformed))]
    public void Parse_Malformed_PointsAtTheOffendingCharacter(string expression, int character, string words)
    {
        var ex = Assert.Throws<QueryLanguageException>(() => QueryParser.Parse(expression));
        Assert.Equal(character, ex.Character);
        Assert.Contains(words, ex.Reason);
        Assert.Contains($"(at character {character})", ex.Message);
        // The message shows the expression and a caret under the offending character.
        var lines = ex.Message.Split('\n');
        Assert.Equal(3, lines.Length);
        Assert.Equal("    " + expression, lines[1]);
        Assert.Equal(character - 1, lines[2].IndexOf('^') - 4);
    }

    [Fact]
    public void Parse_LongerThan2000Characters_IsRejectedAtCharacter2001()
    {
        var expression = "attribute:a == b" + string.Concat(Enumerable.Repeat(" or attribute:a == b", 100));
        Assert.True(expression.Length > 2000);
        var ex = Assert.Throws<QueryLanguageException>(() => QueryParser.Parse(expression));
        Assert.Equal(2001, ex.Character);
        Assert.Contains("at most 2000", ex.Reason);
        // A long expression is shown around the position, with the caret still under it.
        var lines = ex.Message.Split('\n');
        Assert.Equal(expression[ex.Position - 1], lines[1][lines[2].IndexOf('^') - 1]);
    }

    [Fact]
    public void Parse_Exactly2000Characters_IsAccepted()
    {
        var expression = "attribute:a == b";
        while (expression.Length + " or attribute:a == b".Length <= 2000) expression += " or attribute:a == b";
        expression += new string(' ', 2000 - expression.Length);
        Assert.Equal(2000, expression.Length);
        Assert.NotNull(QueryParser.Parse(expression));
    }

    [Fact]
    public void Parse_ErrorFarIntoALongExpression_ShowsAWindowWithTheCaretUnderTheCharacter()
    {
        var expression = string.Concat(Enumerable.Repeat("runningTasksCount == 1 and ", 10)) + "runningTasksCount == x";
        var ex = Assert.Throws<QueryLanguageException>(() => QueryParser.Parse(expression));
        Assert.Equal(expression.Length, ex.Character);
        var lines = ex.Message.Split('\n');
        Assert.StartsWith("    …", lines[1]);
        Assert.Equal('x', lines[1][lines[2].IndexOf('^')]);
    }

    [Fact]
    public void Parse_DeeplyNestedParentheses_IsRejectedNotAStackOverflow()
    {
        var expression = new string('(', 5000) + "runningTasksCount == 1" + new string(')', 5000);
        var ex = Record.Exception(() => QueryParser.Parse(expression[..2000]));
        Assert.IsType<QueryLanguageException>(ex);
    }

    [Fact]
    public void Parse_AnyText_ReturnsOrThrowsOnlyQueryLanguageException()
    {
        var alphabet = Gen.OneOf("attribute:", "ecs.az", "==", "!=", "=~", "!~", "in", "!in", "exists", "!exists", "[", "]", ",", "(", ")",
            "and", "or", "not", "!", "&&", "||", "'", "\"", " ", "x", "1", "2018-02-13", "task:group", "runningTasksCount", ">=", "\\", "*", ".");
        alphabet.Array[0, 12].Select(parts => string.Concat(parts)).Sample(text =>
        {
            try
            {
                var e = QueryParser.Parse(text);
                // Whatever parses, its canonical text parses to the same canonical text.
                Assert.Equal(e.ToString(), QueryParser.Parse(e.ToString()).ToString());
            }
            catch (QueryLanguageException ex)
            {
                Assert.InRange(ex.Position, 0, text.Length);
            }
        }, iter: 5000);
    }

    [Fact]
    public void Parse_GeneratedValidExpressions_RoundTripThroughTheirCanonicalText()
    {
        var comparison = Gen.OneOf(
            "attribute:ecs.instance-type =~ m5.*", "attribute:ecs.availability-zone in [us-east-1a, us-east-1b]", "runningTasksCount <= 3",
            "task:group != database", "ec2InstanceId !in ['i-1', 'i-2']", "attribute:stack !exists", "registeredAt > 2018-02-13",
            "agentVersion greater_than_equal 1.14.5", "attribute:team == 'data platform'");
        var expr = Gen.Recursive<string>((depth, self) => depth >= 3
            ? comparison
            : Gen.Frequency(
                (3, (IGen<string>)comparison),
                (1, (IGen<string>)Gen.Select(self, self, (a, b) => $"{a} and {b}")),
                (1, Gen.Select(self, self, (a, b) => $"({a} or {b})")),
                (1, self.Select(a => $"not ({a})"))));
        expr.Sample(text =>
        {
            var canonical = QueryParser.Parse(text).ToString();
            Assert.Equal(canonical, QueryParser.Parse(canonical).ToString());
        }, iter: 2000);
    }
}
