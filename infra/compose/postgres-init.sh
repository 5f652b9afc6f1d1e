#!/bin/sh
# Runs once, on the first start of an empty PostgreSQL volume: a database and an owning role per service, so
# each service can reach only its own data. Development passwords: "<service>-dev-password".
set -eu
for service in organizations tickets ratings notifications; do
  psql -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" --dbname postgres <<SQL
CREATE ROLE $service LOGIN PASSWORD '$service-dev-password';
CREATE DATABASE $service OWNER $service;
REVOKE ALL ON DATABASE $service FROM PUBLIC;
SQL
done
