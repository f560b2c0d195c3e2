namespace StreamingEvents.Bench.Infrastructure;

/// <summary>Where the server projects were built: the same configuration and framework as this harness.</summary>
internal static class BuildOutputs
{
    /// <summary>The repository root (the folder holding StreamingEvents.sln).</summary>
    public static string RepositoryRoot { get; } = FindRoot();

    /// <summary>bench/StreamingEvents.Bench/bin/&lt;Configuration&gt;/&lt;tfm&gt;/ → Configuration.</summary>
    public static string Configuration { get; } = new DirectoryInfo(AppContext.BaseDirectory.TrimEnd(Path.DirectorySeparatorChar)).Parent!.Name;

    public static string Framework { get; } = new DirectoryInfo(AppContext.BaseDirectory.TrimEnd(Path.DirectorySeparatorChar)).Name;

    /// <summary>The built dll of <c>src/&lt;project&gt;</c>.</summary>
    public static string Dll(string project)
    {
        var dll = Path.Combine(RepositoryRoot, "src", project, "bin", Configuration, Framework, project + ".dll");
        return File.Exists(dll) ? dll : throw new FileNotFoundException($"{dll} is not built; build the bench project (it builds its servers).", dll);
    }

    private static string FindRoot()
    {
        for (var directory = new DirectoryInfo(AppContext.BaseDirectory); directory is not null; directory = directory.Parent)
        {
            if (File.Exists(Path.Combine(directory.FullName, "StreamingEvents.sln")))
            {
                return directory.FullName;
            }
        }

        throw new InvalidOperationException($"No StreamingEvents.sln above {AppContext.BaseDirectory}.");
    }
}
