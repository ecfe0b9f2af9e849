namespace EcsReflex.Core.Events;

/// <summary>
/// ISO 8601 timestamps as AWS writes them: <c>2019-10-02T17:04:40Z</c>, 0 to 9 fractional digits,
/// offsets <c>Z</c>, <c>+0000</c> or <c>+00:00</c>. Allocation-free; never throws.
/// </summary>
public static class Timestamps
{
    public static bool TryParse(ReadOnlySpan<char> s, out DateTimeOffset value)
    {
        value = default;
        if (s.Length < 19) return false;
        if (!Digits(s, 0, 4, out var year) || s[4] != '-' || !Digits(s, 5, 2, out var month) || s[7] != '-'
            || !Digits(s, 8, 2, out var day) || (s[10] != 'T' && s[10] != 't' && s[10] != ' ')
            || !Digits(s, 11, 2, out var hour) || s[13] != ':' || !Digits(s, 14, 2, out var minute) || s[16] != ':'
            || !Digits(s, 17, 2, out var second))
            return false;
        var i = 19;
        long ticks = 0;
        if (i < s.Length && s[i] == '.')
        {
            i++;
            var start = i;
            long scale = TimeSpan.TicksPerSecond;
            while (i < s.Length && char.IsAsciiDigit(s[i]))
            {
                scale /= 10;
                ticks += (s[i] - '0') * scale;
                i++;
            }
            if (i == start || i - start > 9) return false;
        }
        TimeSpan offset;
        if (i == s.Length) offset = TimeSpan.Zero; // no designator: AWS means UTC
        else if (s[i] == 'Z' || s[i] == 'z')
        {
            if (i + 1 != s.Length) return false;
            offset = TimeSpan.Zero;
        }
        else if (s[i] == '+' || s[i] == '-')
        {
            var sign = s[i] == '-' ? -1 : 1;
            var rest = s[(i + 1)..];
            int oh, om;
            if (rest.Length == 4 && Digits(rest, 0, 2, out oh) && Digits(rest, 2, 2, out om)) { }
            else if (rest.Length == 5 && rest[2] == ':' && Digits(rest, 0, 2, out oh) && Digits(rest, 3, 2, out om)) { }
            else if (rest.Length == 2 && Digits(rest, 0, 2, out oh)) om = 0;
            else return false;
            if (oh > 14 || om > 59) return false;
            offset = new TimeSpan(sign * oh, sign * om, 0);
        }
        else return false;

        if (month is < 1 or > 12 || day < 1 || year < 1 || day > DateTime.DaysInMonth(year, month)
            || hour > 23 || minute > 59 || second > 59)
            return false;
        try
        {
            value = new DateTimeOffset(new DateTime(year, month, day, hour, minute, second).AddTicks(ticks), offset);
            return true;
        }
        catch (ArgumentOutOfRangeException)
        {
            return false; // offset pushes it outside the representable range
        }
    }

    private static bool Digits(ReadOnlySpan<char> s, int at, int count, out int value)
    {
        value = 0;
        for (var k = 0; k < count; k++)
        {
            var c = s[at + k];
            if (!char.IsAsciiDigit(c)) return false;
            value = value * 10 + (c - '0');
        }
        return true;
    }
}
