# syntax=docker/dockerfile:1
# The worker (an Orleans client running activities). Build from the repository root:
#   docker build -f deploy/docker/Worker.Dockerfile -t streaming-events/worker:dev .
FROM mcr.microsoft.com/dotnet/sdk:10.0 AS build
WORKDIR /src
COPY . .
RUN --mount=type=cache,id=nuget,target=/root/.nuget/packages \
    dotnet publish src/StreamingEvents.Worker/StreamingEvents.Worker.csproj -c Release -o /app -p:UseAppHost=false

FROM mcr.microsoft.com/dotnet/runtime:10.0
WORKDIR /app
COPY --from=build /app .
USER $APP_UID
ENTRYPOINT ["dotnet", "StreamingEvents.Worker.dll"]
