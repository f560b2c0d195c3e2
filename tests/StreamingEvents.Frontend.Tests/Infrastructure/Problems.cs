using System.Net;
using System.Text.Json;
using Xunit.Sdk;

namespace StreamingEvents.Frontend.Tests.Infrastructure;

/// <summary>Checks an RFC 9457 problem response: media type, status, type, detail, error code and the field at fault.</summary>
public static class Problems
{
    public static async Task<JsonElement> AssertProblemAsync(HttpResponseMessage response, HttpStatusCode status, string? errorCode, string? field = null)
    {
        if (response.StatusCode != status)
        {
            string text;
            try
            {
                text = await response.Content.ReadAsStringAsync().WaitAsync(TimeSpan.FromSeconds(5));
            }
            catch (Exception exception)
            {
                text = $"(the body could not be read: {exception.GetType().Name}: {exception.Message})";
            }

            throw new XunitException($"{response.RequestMessage?.Method} {response.RequestMessage?.RequestUri} answered {(int)response.StatusCode}, not {(int)status}: {text}");
        }

        var json = await response.Content.ReadAsStringAsync();
        Assert.True(response.Content.Headers.ContentType?.MediaType == "application/problem+json",
            $"The {(int)status} answer is '{response.Content.Headers.ContentType}', not application/problem+json; body: '{json}'.");
        JsonElement body;
        try
        {
            // RFC 9457 members are unique: a duplicate "status" would make JSON.parse keep the last one.
            body = JsonDocument.Parse(json, new JsonDocumentOptions { AllowDuplicateProperties = false }).RootElement.Clone();
        }
        catch (JsonException exception)
        {
            throw new XunitException($"The problem body is not valid JSON with unique members ({exception.Message}): {json}");
        }

        Assert.True(body.TryGetProperty("status", out var statusMember) && statusMember.ValueKind == JsonValueKind.Number && statusMember.GetInt32() == (int)status,
            $"'status' is not {(int)status}: {json}");
        Assert.True(body.TryGetProperty("type", out var type) && Uri.TryCreate(type.GetString(), UriKind.Absolute, out _), $"'type' is not an absolute URI: {json}");
        Assert.True(body.TryGetProperty("detail", out var detail) && !string.IsNullOrWhiteSpace(detail.GetString()), $"'detail' is missing or empty: {json}");
        Assert.True(body.TryGetProperty("error_code", out var code) && code.ValueKind == JsonValueKind.String, $"'error_code' is missing: {json}");
        if (errorCode is not null)
        {
            Assert.Equal(errorCode, code.GetString());
        }

        if (field is not null)
        {
            Assert.True(body.TryGetProperty("field", out var named), $"The problem names no field: {json}");
            Assert.Equal(field, named.GetString());
        }

        return body;
    }
}
