# syntax=docker/dockerfile:1
# The HTTP frontend with its co-hosted silo. Build from the repository root:
#   docker build -f deploy/docker/Frontend.Dockerfile -t streaming-events/frontend:dev .
FROM mcr.microsoft.com/dotnet/sdk:10.0 AS build
WORKDIR /src
COPY . .
RUN --mount=type=cache,id=nuget,target=/root/.nuget/packages \
    dotnet publish src/StreamingEvents.Frontend/StreamingEvents.Frontend.csproj -c Release -o /app -p:UseAppHost=false

FROM mcr.microsoft.com/dotnet/aspnet:10.0
WORKDIR /app
COPY --from=build /app .
USER $APP_UID
# 8080 HTTP; 11111 silo and 30000 gateway are for other pods of the cluster only.
EXPOSE 8080 11111 30000
ENTRYPOINT ["dotnet", "StreamingEvents.Frontend.dll"]
