// Each test class runs a real frontend with a co-hosted silo; on a 2-core machine they are steadier one at a time.
[assembly: CollectionBehavior(DisableTestParallelization = true)]
