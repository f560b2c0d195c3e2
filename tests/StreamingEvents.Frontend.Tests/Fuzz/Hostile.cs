using System.Buffers.Text;
using System.Globalization;
using System.Text;

namespace StreamingEvents.Frontend.Tests.Fuzz;

/// <summary>What a value stands for, which decides whether it is definitely invalid (by the rules of <see cref="Names"/>).</summary>
internal enum ValueKind
{
    Identifier,
    StreamName,
    WorkflowName,
    Namespace,

    /// <summary>A non-negative integer below <see cref="long.MaxValue"/> (<c>start_seq</c>, <c>limit</c>, <c>before</c>, single-execution resume ids).</summary>
    Sequence,

    /// <summary>Free text: nothing about it makes it definitely invalid.</summary>
    Free,
}

/// <summary>A value placed in a URL: the bytes that go on the wire, and what is known about it.</summary>
/// <param name="Bytes">As sent (already percent-encoded, or verbatim junk).</param>
/// <param name="Text">The decoded text (for verbatim junk: the junk itself).</param>
/// <param name="Invalid">Definitely invalid for its kind.</param>
/// <param name="HttpLevel">Verbatim junk or an oversized value: the web server may refuse the request before the app.</param>
internal readonly record struct UrlValue(byte[] Bytes, string Text, bool Invalid, bool HttpLevel);

/// <summary>A JSON fragment and whether it makes the body definitely invalid.</summary>
internal readonly record struct JsonPart(byte[] Bytes, bool Invalid, string? Why = null)
{
    public static JsonPart Of(string json, bool invalid = false, string? why = null) => new(Encoding.UTF8.GetBytes(json), invalid, why);
}

/// <summary>Hostile and valid values: strings, URL parts, header values, resume ids, JSON fragments. All from one seeded <see cref="Random"/>.</summary>
internal sealed class Hostile(Random rng)
{
    private const string IdentifierChars = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-.:@=+~";
    private const string LowerNameChars = "abcdefghijklmnopqrstuvwxyz0123456789_-.";

    /// <summary>Strings that break rules, parsers, encoders or logs.</summary>
    public static readonly string[] Strings =
    [
        "", "*", " ", "  ", "a b", "A", "Token", "-", ".", "..", "...", "_", "~", "=", "+", ":", "@", ",", ";", "!", "$", "(", ")", "'", "\"", "\\", "/", "//",
        "?", "#", "&", "%", "%%", "%41", "a+b", "a&b=c", "a=b", "null", "undefined", "true", "{}", "[]", "{\"a\":1}", "NaN", "Infinity",
        "é", "日本語", "😀", "👨‍👩‍👧", "\u202Eevil", "\u200B", "e\u0301", "ﬀ", "İ", "ı", "ß", "Ω", "\uFFFD", "\uFEFF", "\uFFFF",
        "\0", "a\0b", "\u0001", "\t", "\n", "\r\n", "line\nbreak", "\u001B[31mred", "\u007F", "\u0085", "\u2028", "\u2029",
        "\uD800", "\uDC00", "a\uD800b", "\uDBFF\uDBFF", "\uDC00\uD800",
        "../../etc/passwd", "..\\..\\windows\\win.ini", "/etc/passwd", "a/b", "a\\b", "./a", "a/..", "....//",
        "<script>alert(1)</script>", "'; DROP TABLE events; --", "\" OR 1=1 --", "${jndi:ldap://x/a}", "{{7*7}}", "%s%n%x", "$(id)", "`id`",
        "0", "-0", "-1", "1", "01", "+1", " 1", "1 ", "1.5", "1e3", "0x10", "١٢٣", "９", "9223372036854775806", "9223372036854775807",
        "9223372036854775808", "-9223372036854775808", "18446744073709551616", "99999999999999999999999999999999", "1e309", "-1e309",
        "w1.", "w1.AAA", "l1.", "default", "DEFAULT", "demo", "token",
    ];

    /// <summary>Percent-encoded junk, placed verbatim: invalid escapes, invalid UTF-8 (overlong, lone surrogates, beyond U+10FFFF), encoded separators.</summary>
    public static readonly string[] PercentJunk =
    [
        "%", "%2", "%zz", "%%", "%%41", "%25", "%252e%252e", "%00", "a%00b", "%0a", "%0d%0a", "%09", "%20", "%7f", "%ff", "%fe%ff", "%c0%af", "%c0%ae%c0%ae",
        "%e0%80%af", "%ed%a0%80", "%ed%bf%bf", "%ed%a0%80%ed%b0%80", "%f4%90%80%80", "%f8%88%80%80%80", "%c3", "%e2%82", "%80", "%bf",
        "%2e", "%2e%2e", "%2e%2e%2f%2e%2e", "..%2f..%2fetc%2fpasswd", "%2F", "%2f%2f", "%5C", "%5c..%5c", "%u0041", "%uD800", "%23", "%3F", "%26", "%3D",
        "%e2%80%ae", "%ef%bb%bf", "%f0%9f%98%80", "%C3%A9", "+", "++", "%2B",
    ];

    /// <summary>Bytes that are not allowed in a request target or header, placed verbatim.</summary>
    public static readonly byte[][] RawBytes =
    [
        [0x00], [0x01], [0x07], [0x7F], [0x20], [0x09], [0x0D], [0x0A], [0x0D, 0x0A], [0xC3, 0xA9], [0xFF], [0xED, 0xA0, 0x80], [0xC0, 0xAF],
        [0x22], [0x3C], [0x3E], [0x7B], [0x7D], [0x5C], [0x5E], [0x60], [0x7C], [0x23],
    ];

    /// <summary>Numbers and not-quite-numbers for integer parameters.</summary>
    public static readonly string[] Numbers =
    [
        "", "0", "1", "2", "-1", "-0", "+1", "00", "007", "1.0", "1e3", "1E3", " 1", "1 ", "0x1F", "١", "９", "abc", "*", "null", "NaN", "Infinity", "-Infinity",
        "2147483647", "2147483648", "4294967296", "9007199254740993", "9223372036854775806", "9223372036854775807", "9223372036854775808",
        "-9223372036854775808", "-9223372036854775809", "18446744073709551615", "18446744073709551616", "1e309", "-1e309", "1e-400",
        "99999999999999999999999999999999999999999999999999999999999999999999999999999999",
    ];

    /// <summary>Valid JSON numbers that stress number handling.</summary>
    private static readonly string[] JsonNumbers =
    [
        "0", "-0", "1", "-1", "0.0", "1.5", "1e3", "1E+3", "1e-3", "-0.0e-0", "2147483647", "2147483648", "-2147483649", "9007199254740993",
        "9223372036854775807", "9223372036854775808", "-9223372036854775809", "18446744073709551616", "1e308", "1.7976931348623157e308",
        "1e309", "-1e309", "1e-400", "4.9e-324", "123456789012345678901234567890123456789012345678901234567890",
        "0.000000000000000000000000000000000000000000000000000000000000000001",
    ];

    /// <summary>Invalid JSON: each fragment, placed as a value, makes the whole body invalid.</summary>
    private static readonly string[] JsonSyntaxJunk =
    [
        "NaN", "-NaN", "Infinity", "-Infinity", "+Infinity", "undefined", "True", "FALSE", "nul", "'single'", "01", "-01", ".5", "1.", "+1", "0x1F", "1e", "1e+",
        "--1", "1_000", "[1,]", "[,1]", "{\"a\":1,}", "{a:1}", "{\"a\" 1}", "{\"a\":}", "[", "{", "]", "}", "\"unterminated", "\"\\x41\"", "\"\\u12\"", "\"\\uZZZZ\"",
        "\"\\\"", "/*c*/1", "// c\n1", "1 2", "[1 2]", "\"a\"\"b\"", "tru", "nulll",
    ];

    private readonly Random _rng = rng;

    public Random Random => _rng;

    public bool Chance(double probability) => _rng.NextDouble() < probability;

    public T Pick<T>(IReadOnlyList<T> items) => items[_rng.Next(items.Count)];

    public T One<T>(params ReadOnlySpan<T> items) => items[_rng.Next(items.Length)];

    public int Between(int min, int maxInclusive) => _rng.Next(min, maxInclusive + 1);

    /// <summary>A definitely valid value of <paramref name="kind"/>.</summary>
    public string Valid(ValueKind kind) => kind switch
    {
        ValueKind.Identifier => Chance(0.05) ? Repeat(IdentifierChars, Names.MaxIdentifierLength) : Repeat(IdentifierChars, Between(1, 24)),
        ValueKind.StreamName => Chance(0.05) ? Repeat(LowerNameChars, Names.MaxStreamNameLength) : One("token", "progress", "search_result", "a", "a.b-c_d", "0"),
        ValueKind.Namespace => Chance(0.05) ? Repeat(LowerNameChars, Names.MaxNamespaceLength) : One("default", "tenant-a", "fuzz.ns", "x"),
        ValueKind.WorkflowName => One("workflow", "my workflow", "日本語のワークフロー", "😀 emoji", "a/b\\c", "<b>x</b>", "'\"", new string('w', Names.MaxWorkflowNameLength)),
        ValueKind.Sequence => One("0", "1", "2", "3", "10", "100", "1000000", "9223372036854775806", "0001"),
        _ => Pick(Strings),
    };

    /// <summary>A hostile string: from the list, very long (10k characters), at a length limit, random Unicode, or a mix.</summary>
    public string HostileText()
    {
        var roll = _rng.Next(100);
        return roll switch
        {
            < 55 => Pick(Strings),
            < 62 => new string(One('a', 'é', '0', '/', '%', '.'), 10_000),
            < 66 => string.Concat(Enumerable.Repeat(One("😀", "\uD800", "e\u0301", "%00", "../"), 2_500)),
            < 76 => Repeat(IdentifierChars, Names.MaxIdentifierLength + 1),
            < 80 => Repeat(LowerNameChars, Names.MaxStreamNameLength + 1),
            < 83 => Repeat(LowerNameChars, Names.MaxNamespaceLength + 1),
            < 93 => RandomUnicode(Between(1, 40)),
            _ => Pick(Strings) + Valid(ValueKind.Identifier) + Pick(Strings),
        };
    }

    /// <summary>Mostly valid (<paramref name="validShare"/>), else hostile text; with whether it is definitely invalid for its kind.</summary>
    public (string Text, bool Invalid) Text(ValueKind kind, double validShare = 0.5)
    {
        var text = Chance(validShare) ? Valid(kind) : HostileText();
        return (text, !IsValid(kind, text));
    }

    public static bool IsValid(ValueKind kind, string text) => kind switch
    {
        ValueKind.Identifier => Names.IsValidIdentifier(text),
        ValueKind.StreamName => Names.IsValidStreamName(text),
        ValueKind.WorkflowName => Names.IsValidWorkflowName(text),
        ValueKind.Namespace => Names.IsValidNamespace(text),
        ValueKind.Sequence => long.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var value) && value < long.MaxValue,
        _ => true,
    };

    /// <summary>
    /// A value for a URL (path segment or query value): usually a string of <paramref name="kind"/> (valid or hostile),
    /// UTF-8 percent-encoded as a client would; sometimes verbatim percent junk or raw bytes.
    /// <paramref name="emptyIsAbsent"/>: an empty value (and <c>*</c>) means "any" for the parameter.
    /// </summary>
    public UrlValue Url(ValueKind kind, double validShare = 0.5, bool emptyIsAbsent = true, IReadOnlyList<string>? known = null)
    {
        var roll = _rng.NextDouble();
        if (roll < 0.07)
        {
            var junk = Chance(0.5) ? Pick(PercentJunk) : Valid(ValueKind.Identifier) + Pick(PercentJunk) + Pick(PercentJunk);
            return new UrlValue(Encoding.ASCII.GetBytes(junk), junk, false, true);
        }

        if (roll < 0.11)
        {
            var raw = Concat(Encoding.ASCII.GetBytes(Valid(ValueKind.Identifier)), Pick(RawBytes));
            return new UrlValue(raw, Encoding.Latin1.GetString(raw), false, true);
        }

        var (text, _) = known is { Count: > 0 } && Chance(validShare) ? (Pick(known), false) : Text(kind, validShare);

        // What the server decodes: UTF-8 cannot carry a lone surrogate, the encoder sends U+FFFD instead.
        text = Encoding.UTF8.GetString(Encoding.UTF8.GetBytes(text));
        var invalid = !IsValid(kind, text);
        if (emptyIsAbsent && text is "" or "*")
        {
            invalid = false;
        }

        var bytes = PercentEncode(text);
        return new UrlValue(bytes, text, invalid, bytes.Length > 7_000);
    }

    /// <summary>A number parameter: from <see cref="Numbers"/>, a random valid one, or any hostile text.</summary>
    public UrlValue Number(IReadOnlyList<string>? interesting = null)
    {
        var roll = _rng.Next(100);
        var text = roll switch
        {
            < 45 => Pick(Numbers),
            < 65 => _rng.NextInt64(0, long.MaxValue).ToString(CultureInfo.InvariantCulture),
            < 80 when interesting is { Count: > 0 } => Pick(interesting),
            < 90 => Between(0, 50).ToString(CultureInfo.InvariantCulture),
            _ => HostileText(),
        };
        if (roll >= 97)
        {
            return new UrlValue(Encoding.ASCII.GetBytes(Pick(PercentJunk)), text, false, true);
        }

        var bytes = PercentEncode(text);
        return new UrlValue(bytes, text, text.Length > 0 && !IsValid(ValueKind.Sequence, text), bytes.Length > 7_000);
    }

    /// <summary>A <c>Last-Event-ID</c> (or <c>last_event_id</c>): sequences, garbage, huge numbers, <c>w1.</c> cursors (valid, junk, overflowing).</summary>
    public string ResumeId(IReadOnlyList<string> knownCursors)
    {
        var roll = _rng.Next(100);
        return roll switch
        {
            < 15 => Pick(Numbers),
            < 25 => Between(0, 60).ToString(CultureInfo.InvariantCulture),
            < 35 => HostileText(),
            < 45 => "w1." + Base64Url.EncodeToString(RandomBytes(Between(0, 40))),
            < 52 => "w1." + One("!!!", "====", "AAA=", "A", "+/+/", "%41", "\u00e9", "AA AA", "AA\tAA", new string('A', 20_000)),
            < 70 => "w1." + Base64Url.EncodeToString(Cursor()),
            < 80 when knownCursors.Count > 0 => Mutate(Pick(knownCursors)),
            < 85 when knownCursors.Count > 0 => Pick(knownCursors),
            < 92 => "l1." + Base64Url.EncodeToString(RandomBytes(16)),
            _ => One("", " ", "w1", "W1.AAA", "w2.AAA", "w1.AAA.AAA", "-0", "0", "9223372036854775806", "1\u0000"),
        };
    }

    /// <summary>Whether <paramref name="text"/> is definitely not a resume id of a single-execution stream.</summary>
    public static bool IsInvalidSequenceId(string text) => text.Length > 0 && !IsValid(ValueKind.Sequence, text);

    /// <summary>Whether <paramref name="text"/> is definitely not a cursor of a wildcard stream.</summary>
    public static bool IsInvalidCursor(string text)
    {
        if (text.Length == 0)
        {
            return false;
        }

        try
        {
            WildcardCursor.Decode(text);
            return false;
        }
        catch (FormatException)
        {
            return true;
        }
    }

    /// <summary>
    /// The bytes of a <c>w1.</c> cursor (varints: default start, count, then (stream id delta, next) pairs) with
    /// boundary and overflowing numbers: 2^63, 2^64-1, over-long varints, counts far beyond the data, many pairs.
    /// </summary>
    public byte[] Cursor()
    {
        var bytes = new List<byte>();
        ulong Number() => _rng.Next(10) switch
        {
            0 => (ulong)long.MaxValue,
            1 => (ulong)long.MaxValue + 1,
            2 => ulong.MaxValue,
            3 => (ulong)long.MaxValue - 1,
            4 => 0,
            5 => 1UL << 62,
            _ => (ulong)_rng.Next(0, 1000),
        };
        Varint(bytes, Number());
        var pairs = _rng.Next(10) switch
        {
            0 => 2_000,
            1 => 0,
            _ => _rng.Next(1, 6),
        };
        var declared = _rng.Next(8) switch
        {
            0 => (ulong)pairs + 1,
            1 => ulong.MaxValue,
            2 => 1UL << 40,
            _ => (ulong)pairs,
        };
        Varint(bytes, declared);
        for (var i = 0; i < pairs; i++)
        {
            Varint(bytes, pairs > 100 ? (ulong)_rng.Next(0, 2) : Number());
            Varint(bytes, pairs > 100 ? (ulong)_rng.Next(0, 100) : Number());
        }

        if (Chance(0.1))
        {
            bytes.AddRange(Enumerable.Repeat((byte)0xFF, Between(1, 12)));
        }

        if (Chance(0.1))
        {
            bytes.RemoveRange(bytes.Count / 2, bytes.Count - bytes.Count / 2);
        }

        return [.. bytes];
    }

    /// <summary>A valid cursor with one byte flipped, truncated, or extended.</summary>
    public string Mutate(string cursor)
    {
        var chars = cursor.ToCharArray();
        return _rng.Next(4) switch
        {
            0 when chars.Length > 3 => cursor[..Between(3, chars.Length - 1)],
            1 => cursor + One("A", "AA", "_", "-", "=", "!"),
            2 when chars.Length > 3 => Flip(chars),
            _ => cursor.Replace('A', '_'),
        };

        string Flip(char[] text)
        {
            text[Between(3, text.Length - 1)] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_!"[_rng.Next(65)];
            return new string(text);
        }
    }

    /// <summary>A header value as bytes, and whether it breaks HTTP (control characters, non-ASCII).</summary>
    public static (byte[] Bytes, bool HttpLevel) HeaderValue(string text)
    {
        var bytes = Encoding.UTF8.GetBytes(text);
        return (bytes, bytes.Any(b => b is < 0x20 and not 0x09 or >= 0x7F) || bytes.Length > 8_000);
    }

    // ---- JSON ----

    /// <summary>A JSON string literal of <paramref name="text"/>: control characters and lone surrogates as <c>\u</c> escapes (valid syntax).</summary>
    public static string JsonString(string text)
    {
        var json = new StringBuilder("\"");
        for (var i = 0; i < text.Length; i++)
        {
            var c = text[i];
            if (c is '"' or '\\')
            {
                json.Append('\\').Append(c);
            }
            else if (c < 0x20 || c == 0x7F || char.IsSurrogate(c) && !(char.IsHighSurrogate(c) && i + 1 < text.Length && char.IsLowSurrogate(text[i + 1])) && !(char.IsLowSurrogate(c) && i > 0 && char.IsHighSurrogate(text[i - 1])))
            {
                json.Append(CultureInfo.InvariantCulture, $"\\u{(int)c:x4}");
            }
            else
            {
                json.Append(c);
            }
        }

        return json.Append('"').ToString();
    }

    /// <summary>A string member value of <paramref name="kind"/>: valid, hostile, null, a wrong type, or broken JSON.</summary>
    public JsonPart StringMember(ValueKind kind, bool required, IReadOnlyList<string>? known = null, double validShare = 0.6)
    {
        var roll = _rng.NextDouble();
        if (roll < validShare)
        {
            var text = known is { Count: > 0 } && Chance(0.6) ? Pick(known) : Valid(kind);
            return JsonPart.Of(JsonString(text));
        }

        roll = _rng.NextDouble();
        if (roll < 0.55)
        {
            var text = HostileText();
            var invalid = !IsValid(kind, text);
            return JsonPart.Of(JsonString(text), invalid, invalid ? $"{kind} rule broken" : null);
        }

        if (roll < 0.65)
        {
            return JsonPart.Of("null", required, required ? "required member is null" : null);
        }

        if (roll < 0.92)
        {
            return new JsonPart(WrongType(), true, "a string member of another JSON type");
        }

        return SyntaxJunk();
    }

    /// <summary>Any JSON value (a state, a patch value, metadata member): mostly valid, sometimes broken or too deep.</summary>
    public JsonPart AnyValue(int depthAbove)
    {
        var roll = _rng.Next(100);
        return roll switch
        {
            < 80 => new JsonPart(Value(0), false),
            < 85 => Deep(depthAbove),
            < 92 => SyntaxJunk(),
            _ => InvalidUtf8String(),
        };
    }

    /// <summary>A JSON object (metadata): valid with hostile member names and values, or another type.</summary>
    public JsonPart ObjectMember()
    {
        var roll = _rng.Next(100);
        return roll switch
        {
            < 65 => new JsonPart(ObjectValue(0), false),
            < 75 => JsonPart.Of("null"),
            < 92 => new JsonPart(NonObject(), true, "an object member of another JSON type"),
            _ => SyntaxJunk(),
        };
    }

    /// <summary>A valid JSON value of bounded depth and size.</summary>
    public byte[] Value(int depth)
    {
        var roll = _rng.Next(depth > 3 ? 60 : 100);
        return roll switch
        {
            < 25 => Encoding.UTF8.GetBytes(JsonString(HostileText())),
            < 40 => Encoding.UTF8.GetBytes(Pick(JsonNumbers)),
            < 50 => Encoding.UTF8.GetBytes(One("true", "false", "null")),
            < 60 => Encoding.UTF8.GetBytes(JsonString(Valid(ValueKind.Identifier))),
            < 80 => ObjectValue(depth + 1),
            _ => ArrayValue(depth + 1),
        };
    }

    public byte[] ObjectValue(int depth)
    {
        var members = Enumerable.Range(0, Between(0, depth > 2 ? 2 : 5))
            .Select(_ => Concat(Encoding.UTF8.GetBytes(JsonString(Chance(0.5) ? Valid(ValueKind.Identifier) : HostileText()) + ":"), Value(depth)));
        return Concat([(byte)'{'], Join(members), [(byte)'}']);
    }

    private byte[] ArrayValue(int depth) =>
        Concat([(byte)'['], Join(Enumerable.Range(0, Between(0, depth > 2 ? 2 : 5)).Select(_ => Value(depth))), [(byte)']']);

    /// <summary>Nesting at the depth limit (64) or far beyond it (10,000 levels); invalid when the body would be deeper than 64.</summary>
    public JsonPart Deep(int depthAbove)
    {
        var levels = One(10_000, 10_000, 1_000, 65, 64, 63, 62);
        var (open, close) = Chance(0.5) ? ("[", "]") : ("{\"a\":", "}");
        var json = string.Concat(Enumerable.Repeat(open, levels)) + "1" + string.Concat(Enumerable.Repeat(close, levels));
        var invalid = levels + depthAbove > StreamingLimits.MaxJsonDepth;
        return JsonPart.Of(json, invalid, invalid ? $"{levels:N0} nested levels under {depthAbove} (the limit is {StreamingLimits.MaxJsonDepth})" : null);
    }

    public JsonPart SyntaxJunk() => JsonPart.Of(Pick(JsonSyntaxJunk), true, "not JSON");

    /// <summary>A string holding invalid UTF-8 (overlong, lone surrogate, beyond U+10FFFF, stray continuation) or a raw control character.</summary>
    public JsonPart InvalidUtf8String()
    {
        byte[] bad = One<byte[]>([0xC0, 0xAF], [0xED, 0xA0, 0x80], [0xF4, 0x90, 0x80, 0x80], [0x80], [0xFF], [0xFE], [0xC3], [0xE2, 0x82], [0x01], [0x00], [0x0A]);
        return new JsonPart(Concat("\"ab"u8.ToArray(), bad, "cd\""u8.ToArray()), true, "a string with invalid UTF-8 or a raw control character");
    }

    public byte[] WrongType() => Encoding.UTF8.GetBytes(One("1", "-1", "0.5", "1e309", "true", "false", "[]", "[\"a\"]", "{}", "{\"a\":\"b\"}", "[[[]]]"));

    public byte[] NonObject() => Encoding.UTF8.GetBytes(One("1", "\"x\"", "true", "[]", "[{}]", "\"{}\""));

    /// <summary>A JSON object from members (name, value), with optional whitespace noise.</summary>
    public byte[] Object(IEnumerable<(string Name, byte[] Value)> members)
    {
        var space = Chance(0.15) ? One(" ", "\n", "\t", "\r\n  ") : string.Empty;
        var parts = members.Select(m => Concat(Encoding.UTF8.GetBytes(space + JsonString(m.Name) + space + ":" + space), m.Value));
        return Concat(Encoding.UTF8.GetBytes("{" + space), Join(parts), Encoding.UTF8.GetBytes(space + "}"));
    }

    // ---- helpers ----

    public static byte[] PercentEncode(string text)
    {
        var bytes = Encoding.UTF8.GetBytes(text);
        var encoded = new StringBuilder(bytes.Length * 3);
        foreach (var b in bytes)
        {
            if (b is >= (byte)'a' and <= (byte)'z' or >= (byte)'A' and <= (byte)'Z' or >= (byte)'0' and <= (byte)'9' or (byte)'-' or (byte)'.' or (byte)'_' or (byte)'~')
            {
                encoded.Append((char)b);
            }
            else
            {
                encoded.Append(CultureInfo.InvariantCulture, $"%{b:X2}");
            }
        }

        return Encoding.ASCII.GetBytes(encoded.ToString());
    }

    public static byte[] Concat(params byte[][] parts)
    {
        var all = new byte[parts.Sum(p => p.Length)];
        var at = 0;
        foreach (var part in parts)
        {
            part.CopyTo(all, at);
            at += part.Length;
        }

        return all;
    }

    public static byte[] Join(IEnumerable<byte[]> parts)
    {
        var list = parts.ToList();
        var joined = new List<byte>();
        for (var i = 0; i < list.Count; i++)
        {
            if (i > 0)
            {
                joined.Add((byte)',');
            }

            joined.AddRange(list[i]);
        }

        return [.. joined];
    }

    public byte[] RandomBytes(int count)
    {
        var bytes = new byte[count];
        _rng.NextBytes(bytes);
        return bytes;
    }

    private string Repeat(string alphabet, int length) =>
        string.Create(length, (alphabet, _rng), static (span, state) =>
        {
            for (var i = 0; i < span.Length; i++)
            {
                span[i] = state.alphabet[state._rng.Next(state.alphabet.Length)];
            }
        });

    /// <summary>Random code points from every plane, including unpaired surrogates, controls and non-characters.</summary>
    private string RandomUnicode(int length)
    {
        var text = new StringBuilder();
        for (var i = 0; i < length; i++)
        {
            switch (_rng.Next(6))
            {
                case 0:
                    text.Append((char)_rng.Next(0, 0x20));
                    break;
                case 1:
                    text.Append((char)_rng.Next(0xD800, 0xE000));
                    break;
                case 2:
                    text.Append(char.ConvertFromUtf32(_rng.Next(0x10000, 0x110000)));
                    break;
                case 3:
                    text.Append((char)_rng.Next(0x20, 0x7F));
                    break;
                default:
                    var c = _rng.Next(0x80, 0x10000);
                    text.Append(c is >= 0xD800 and < 0xE000 ? 'x' : (char)c);
                    break;
            }
        }

        return text.ToString();
    }

    private static void Varint(List<byte> bytes, ulong value)
    {
        while (value >= 0x80)
        {
            bytes.Add((byte)(value | 0x80));
            value >>= 7;
        }

        bytes.Add((byte)value);
    }
}
