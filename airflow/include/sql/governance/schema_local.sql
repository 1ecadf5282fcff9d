-- The local target keeps a schema's tables in <warehouse>/<catalog>/<schema>: the database points there.
CREATE SCHEMA IF NOT EXISTS {{ schema }} LOCATION {{ location }};
