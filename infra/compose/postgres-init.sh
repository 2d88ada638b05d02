#!/bin/sh
# Run once by the postgres image on an empty data directory, as its superuser: the only thing the
# superuser does. vod owns the database and runs the migrations (CREATEROLE: they create the API's
# role vod_api); the services log in as vod, the API as vod_api (its password: the init job).
set -eu
psql -v ON_ERROR_STOP=1 -v vod_password="$VOD_DB_PASSWORD" --username "$POSTGRES_USER" --dbname postgres <<'SQL'
CREATE ROLE vod LOGIN CREATEROLE PASSWORD :'vod_password';
CREATE DATABASE vod OWNER vod;
SQL
