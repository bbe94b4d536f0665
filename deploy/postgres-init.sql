-- Run once by the postgres image on an empty data directory
-- (/docker-entrypoint-initdb.d), as POSTGRES_USER, who becomes the owner of
-- every database. One database per service; the gateway owns no data.
-- Tables are created later by `python -m plumbing.migrate <service>`.
CREATE DATABASE accounts;
CREATE DATABASE catalog;
CREATE DATABASE teams;
CREATE DATABASE orders;
CREATE DATABASE payments;
CREATE DATABASE promotions;
CREATE DATABASE notify;
CREATE DATABASE reviews;
