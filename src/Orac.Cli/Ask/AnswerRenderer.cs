using System.Text;
using System.Text.Json;

namespace Orac.Cli.Ask;

/// <summary>
/// Words an <see cref="Answer"/>: PARTIAL first when partial, the verdict, then the tables (units in the headers, each
/// titled with its basis), links, the memories used and memory updates. The voice picks the prose only; everything
/// else is the same text in every voice. <see cref="Json"/> is the machine form: the plan and the answer's data.
/// </summary>
public static class AnswerRenderer
{
    /// <summary>The answer as text in <paramref name="voice"/>.</summary>
    public static string Text(Answer answer, Voice voice)
    {
        ArgumentNullException.ThrowIfNull(answer);
        var sb = new StringBuilder();
        if (answer.Partial)
        {
            sb.Append("PARTIAL: ").Append(answer.Missing.Count == 0 ? "some data is missing" : "missing " + string.Join(", ", answer.Missing)).Append('\n');
        }

        AppendProse(sb, answer.Verdict.In(voice));
        foreach (Said s in answer.Remarks)
        {
            AppendProse(sb, s.In(voice));
        }

        foreach (AnswerTable t in answer.Tables)
        {
            sb.Append('\n').Append(t.Title).Append(" (").Append(t.Basis).Append(")\n");
            if (t.Rows.Count == 0)
            {
                sb.Append("(no rows)\n");
                continue;
            }

            var table = new TextTable([.. t.Columns]);
            foreach (string[] row in t.Rows)
            {
                table.Row(row);
            }

            sb.Append(table.Render());
        }

        foreach (string block in answer.Blocks)
        {
            sb.Append('\n').Append(block);
            if (!block.EndsWith('\n'))
            {
                sb.Append('\n');
            }
        }

        bool gap = true;
        foreach (AnswerLink link in answer.Links)
        {
            Gap(sb, ref gap);
            sb.Append(link.Label).Append(": ").Append(link.Url).Append('\n');
        }

        foreach (string note in answer.Notes)
        {
            Gap(sb, ref gap);
            sb.Append("note: ").Append(note).Append('\n');
        }

        foreach ((string id, string text) in answer.MemoriesUsed)
        {
            Gap(sb, ref gap);
            sb.Append("used memory ").Append(id).Append(": ").Append(text).Append('\n');
        }

        foreach (string line in answer.MemoryLines)
        {
            Gap(sb, ref gap);
            sb.Append(line).Append('\n');
        }

        return sb.ToString();
    }

    /// <summary>The plan (canonical form, kind, steps) and the answer's data as one JSON object (the voice's verdict included).</summary>
    public static byte[] Json(Answer answer, Voice voice)
    {
        ArgumentNullException.ThrowIfNull(answer);
        using var buffer = new MemoryStream();
        using (var w = new Utf8JsonWriter(buffer, new JsonWriterOptions { Indented = true }))
        {
            w.WriteStartObject();
            w.WriteStartObject("plan");
            w.WriteString("canonical", answer.Plan.ToString());
            w.WriteString("kind", Orac.Ask.Plan.KindWord(answer.Plan.Kind));
            w.WriteStartArray("steps");
            foreach (string step in answer.Plan.Steps)
            {
                w.WriteStringValue(step);
            }

            w.WriteEndArray();
            w.WriteBoolean("confirm", answer.Plan.Confirm);
            w.WriteEndObject();
            w.WriteNumber("exitCode", answer.ExitCode);
            w.WriteBoolean("partial", answer.Partial);
            Strings(w, "missing", answer.Missing);
            w.WriteString("verdict", answer.Verdict.In(voice));
            Strings(w, "remarks", answer.Remarks.ConvertAll(s => s.In(voice)));
            w.WriteStartArray("tables");
            foreach (AnswerTable t in answer.Tables)
            {
                w.WriteStartObject();
                w.WriteString("title", t.Title);
                w.WriteString("basis", t.Basis);
                Strings(w, "columns", t.Columns);
                w.WriteStartArray("rows");
                foreach (string[] row in t.Rows)
                {
                    w.WriteStartArray();
                    foreach (string cell in row)
                    {
                        w.WriteStringValue(cell);
                    }

                    w.WriteEndArray();
                }

                w.WriteEndArray();
                w.WriteEndObject();
            }

            w.WriteEndArray();
            Strings(w, "blocks", answer.Blocks);
            w.WriteStartArray("links");
            foreach (AnswerLink l in answer.Links)
            {
                w.WriteStartObject();
                w.WriteString("label", l.Label);
                w.WriteString("url", l.Url);
                w.WriteEndObject();
            }

            w.WriteEndArray();
            w.WriteStartArray("memoriesUsed");
            foreach ((string id, string text) in answer.MemoriesUsed)
            {
                w.WriteStartObject();
                w.WriteString("id", id);
                w.WriteString("text", text);
                w.WriteEndObject();
            }

            w.WriteEndArray();
            Strings(w, "memoryLines", answer.MemoryLines);
            Strings(w, "notes", answer.Notes);
            w.WriteEndObject();
        }

        buffer.WriteByte((byte)'\n');
        return buffer.ToArray();
    }

    private static void AppendProse(StringBuilder sb, string text)
    {
        if (text.Length > 0)
        {
            sb.Append(text);
            if (!text.EndsWith('\n'))
            {
                sb.Append('\n');
            }
        }
    }

    private static void Gap(StringBuilder sb, ref bool gap)
    {
        if (gap)
        {
            sb.Append('\n');
            gap = false;
        }
    }

    private static void Strings(Utf8JsonWriter w, string name, IEnumerable<string> values)
    {
        w.WriteStartArray(name);
        foreach (string v in values)
        {
            w.WriteStringValue(v);
        }

        w.WriteEndArray();
    }
}
