using StreamingEvents.Deploy.Tests.Infrastructure;

namespace StreamingEvents.Deploy.Tests;

public sealed class DisruptionTests
{
    public static TheoryData<string> Overlays => OverlayData.All();

    [Theory]
    [MemberData(nameof(Overlays))]
    public async Task A_disruption_budget_lets_voluntary_evictions_take_one_frontend_at_a_time(string overlay)
    {
        var rendered = await Manifests.OverlayAsync(overlay);
        var frontend = rendered.FrontendDeployment;
        var replicas = frontend.Object.Long("spec", "replicas") ?? 1;

        var budget = Assert.Single(rendered.OfKind("PodDisruptionBudget"), p => frontend.IsSelectedBy(p.Get("spec", "selector")));
        Assert.False(rendered.WorkerDeployment.IsSelectedBy(budget.Get("spec", "selector")), $"{overlay}: the frontend budget selects worker pods.");
        if (budget.Str("spec", "maxUnavailable") is { } maxUnavailable)
        {
            Assert.Equal("1", maxUnavailable);
        }
        else
        {
            Assert.Equal(Math.Max(replicas - 1, 0), budget.Long("spec", "minAvailable"));
        }
    }
}
