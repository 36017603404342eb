-- A box's credential can be revoked (a stolen or retired box): its
-- requests are refused from then on, its records stay. A new token
-- (central box token) enrols it again.
ALTER TABLE boxes ADD COLUMN revoked timestamptz;
