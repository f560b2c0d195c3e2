namespace StreamingEvents;

/// <summary>Every log event id of the server, in one place.</summary>
internal static class EventIds
{
    public const int AppendFailed = 1001;
    public const int WriteConflict = 1002;
    public const int FlushFailed = 1003;
    public const int PushFailed = 1004;
    public const int PushesAbandoned = 1005;
    public const int TaskTimedOut = 1006;
    public const int Trimmed = 1007;
    public const int TrimFailed = 1008;
    public const int SweepFailed = 1101;
    public const int SchemaApplied = 1201;
    public const int WalCheckpointBusy = 1301;
    public const int WalCheckpointFailed = 1302;
}
