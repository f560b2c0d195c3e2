# syntax=docker/dockerfile:1
# The standalone silo host; in Kubernetes it runs `migrate` (apply the PostgreSQL schema, exit 0) as the frontend's
# init container. Build from the repository root:
#   docker build -f deploy/docker/Silo.Dockerfile -t streaming-events/silo:dev .
FROM mcr.microsoft.com/dotnet/sdk:10.0 AS build
WORKDIR /src
COPY . .
RUN --mount=type=cache,id=nuget,target=/root/.nuget/packages \
    dotnet publish src/StreamingEvents.Silo/StreamingEvents.Silo.csproj -c Release -o /app -p:UseAppHost=false

# aspnet, not runtime: the silo references StreamingEvents.ServiceDefaults, which needs Microsoft.AspNetCore.App.
FROM mcr.microsoft.com/dotnet/aspnet:10.0
WORKDIR /app
COPY --from=build /app .
USER $APP_UID
ENTRYPOINT ["dotnet", "StreamingEvents.Silo.dll"]
CMD ["run"]
