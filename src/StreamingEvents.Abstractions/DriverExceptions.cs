using System.Data.Common;
using Orleans.Serialization;

namespace StreamingEvents;

/// <summary>
/// Lets database driver exceptions (Npgsql's, SQLite's) travel as the inner exception of a typed error such as
/// <see cref="StorageUnavailableException"/>. Orleans serializes only exceptions of known namespaces; without this, a
/// call that failed because PostgreSQL was down would reach the caller as <c>CodecNotFoundException</c> instead of the
/// transient, typed error it is. A process without the driver receives Orleans' fallback exception in its place.
/// </summary>
public static class DriverExceptions
{
    /// <summary>Adds database exceptions (<see cref="DbException"/> and subclasses) to the serializable exceptions.</summary>
    public static void AllowInnerDriverExceptions(ExceptionSerializationOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var previous = options.SupportedExceptionTypeFilter;
        options.SupportedExceptionTypeFilter = type => typeof(DbException).IsAssignableFrom(type) || (previous?.Invoke(type) ?? false);
    }
}
