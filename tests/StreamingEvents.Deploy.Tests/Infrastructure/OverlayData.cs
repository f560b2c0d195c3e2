namespace StreamingEvents.Deploy.Tests.Infrastructure;

/// <summary>Theory data: every overlay under deploy/k8s/overlays.</summary>
internal static class OverlayData
{
    public static TheoryData<string> All()
    {
        var data = new TheoryData<string>();
        foreach (var overlay in Repository.Overlays)
        {
            data.Add(overlay);
        }

        return data;
    }
}
