using System.Text.RegularExpressions;
using StreamingEvents.Deploy.Tests.Infrastructure;

namespace StreamingEvents.Deploy.Tests;

/// <summary>The Dockerfiles cannot be built here; these checks keep them in step with src/ and the manifests.</summary>
public sealed partial class DockerfileTests
{
    public static TheoryData<string> Dockerfiles()
    {
        var data = new TheoryData<string>();
        foreach (var file in Directory.GetFiles(Repository.DockerFolder, "*.Dockerfile").Order(StringComparer.Ordinal))
        {
            data.Add(Path.GetFileName(file));
        }

        return data;
    }

    [Theory]
    [MemberData(nameof(Dockerfiles))]
    public void Every_dockerfile_publishes_a_project_of_src_and_runs_its_dll_as_a_non_root_user_on_the_matching_runtime_image(string dockerfile)
    {
        var text = File.ReadAllText(Path.Combine(Repository.DockerFolder, dockerfile));

        var publish = Publish().Match(text);
        Assert.True(publish.Success, $"{dockerfile} runs no `dotnet publish src/...csproj -c Release`.");
        var project = Path.Combine(Repository.Root, publish.Groups["project"].Value);
        Assert.True(File.Exists(project), $"{dockerfile} publishes {publish.Groups["project"].Value}, which does not exist.");
        var projectText = File.ReadAllText(project);
        var assembly = AssemblyName().Match(projectText) is { Success: true } m ? m.Groups["name"].Value : Path.GetFileNameWithoutExtension(project);
        Assert.Matches($@"ENTRYPOINT \[""dotnet"", ""{Regex.Escape(assembly)}\.dll""\]", text);

        var stages = From().Matches(text).Select(s => s.Groups["image"].Value).ToList();
        Assert.Equal("mcr.microsoft.com/dotnet/sdk:10.0", stages.First());
        var usesAspNetCore = ProjectClosure(project).Any(UsesAspNetCore);
        Assert.True(stages.Last() == (usesAspNetCore ? "mcr.microsoft.com/dotnet/aspnet:10.0" : "mcr.microsoft.com/dotnet/runtime:10.0"),
            $"{dockerfile} runs on {stages.Last()}, but {Path.GetFileName(project)} {(usesAspNetCore ? "needs" : "does not need")} ASP.NET Core.");

        var finalStage = text[text.LastIndexOf("\nFROM ", StringComparison.Ordinal)..];
        Assert.Matches(@"\nUSER (\$APP_UID|[1-9][0-9]*)\s", finalStage);
    }

    [Theory]
    [MemberData(nameof(Dockerfiles))]
    public void Every_dockerfile_has_an_ignore_file_that_keeps_build_outputs_out_of_the_context(string dockerfile)
    {
        var ignore = Path.Combine(Repository.DockerFolder, dockerfile + ".dockerignore");

        Assert.True(File.Exists(ignore), $"{ignore} is missing (BuildKit reads it for {dockerfile}).");
        var lines = File.ReadAllLines(ignore).Select(l => l.Trim()).ToList();
        Assert.Contains("**/bin", lines);
        Assert.Contains("**/obj", lines);
    }

    [Fact]
    public async Task Every_image_the_base_runs_is_built_by_a_dockerfile_here()
    {
        var images = (await Manifests.BaseAsync()).Workloads.SelectMany(w => w.AllContainers).Select(c => c.Image).Distinct().ToList();

        Assert.NotEmpty(images);
        foreach (var image in images)
        {
            Assert.StartsWith("streaming-events/", image, StringComparison.Ordinal);
            var name = image["streaming-events/".Length..];
            var dockerfile = Path.Combine(Repository.DockerFolder, char.ToUpperInvariant(name[0]) + name[1..] + ".Dockerfile");
            Assert.True(File.Exists(dockerfile), $"The base runs {image}, but {dockerfile} does not exist.");
        }
    }

    /// <summary>The project and every project it references, directly or not.</summary>
    private static HashSet<string> ProjectClosure(string project)
    {
        var closure = new HashSet<string>(StringComparer.Ordinal);
        var pending = new Stack<string>([Path.GetFullPath(project)]);
        while (pending.TryPop(out var current))
        {
            if (!closure.Add(current) || !File.Exists(current))
            {
                continue;
            }

            foreach (Match reference in ProjectReference().Matches(File.ReadAllText(current)))
            {
                pending.Push(Path.GetFullPath(Path.Combine(Path.GetDirectoryName(current)!, reference.Groups["path"].Value.Replace('\\', '/'))));
            }
        }

        return closure;
    }

    /// <summary>A web SDK project, or one with the ASP.NET Core shared framework: the app then needs the aspnet image.</summary>
    private static bool UsesAspNetCore(string project)
    {
        var text = File.Exists(project) ? File.ReadAllText(project) : "";
        return text.Contains("Sdk=\"Microsoft.NET.Sdk.Web\"", StringComparison.Ordinal)
            || text.Contains("<FrameworkReference Include=\"Microsoft.AspNetCore.App\"", StringComparison.Ordinal);
    }

    [GeneratedRegex(@"<ProjectReference Include=""(?<path>[^""]+)""")]
    private static partial Regex ProjectReference();

    [GeneratedRegex(@"dotnet publish (?<project>src/[^\s]+\.csproj) -c Release")]
    private static partial Regex Publish();

    [GeneratedRegex(@"<AssemblyName>(?<name>[^<]+)</AssemblyName>")]
    private static partial Regex AssemblyName();

    [GeneratedRegex(@"^FROM (?<image>\S+)", RegexOptions.Multiline)]
    private static partial Regex From();
}
