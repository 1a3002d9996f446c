-- Grow a keyturn market database set-based (no API) to :total users, each with one live
-- session, a cart and 3 cart lines over the SKUs for sale. Run by load.py on a copy of the
-- 1 000-user database, so the users signed in through the API (and their tokens) are kept.
--   psql -v total=1000000 -f keyturn_scale.sql
\set ON_ERROR_STOP on
BEGIN;
CREATE TEMP TABLE seed_start AS SELECT coalesce(max(id), 0) AS last_id FROM users;

INSERT INTO users (phone_number, role, is_active, is_verified, email_verified, market,
                   language, country, created_at, updated_at)
SELECT '+1999' || lpad(g::text, 8, '0'), 'customer', true, true, false, 'us', 'en', 'US',
       now(), now()
FROM generate_series(1, :total - (SELECT count(*) FROM users)) AS g;

INSERT INTO sessions (id, user_id, auth_method, created_at, last_seen_at, expires_at,
                      auth_time, amr)
SELECT md5('seed-session-' || u.id), u.id, 'phone', now(), now(), now() + interval '30 days',
       now(), 'sms'
FROM users u WHERE u.id > (SELECT last_id FROM seed_start);

INSERT INTO carts (user_id, created_at)
SELECT u.id, now() FROM users u WHERE u.id > (SELECT last_id FROM seed_start);

WITH forsale AS (
    SELECT array_agg(s.id ORDER BY s.id) AS ids
    FROM skus s JOIN products p ON p.id = s.product_id
    WHERE s.is_active AND p.is_active
)
INSERT INTO cart_items (cart_id, sku_id, quantity, added_at, updated_at)
SELECT c.id, f.ids[1 + (c.id * 3 + k) % cardinality(f.ids)], k, now(), now()
FROM carts c
CROSS JOIN generate_series(1, 3) AS k
CROSS JOIN forsale f
WHERE c.user_id > (SELECT last_id FROM seed_start);
COMMIT;

VACUUM ANALYZE users;
VACUUM ANALYZE sessions;
VACUUM ANALYZE carts;
VACUUM ANALYZE cart_items;
SELECT (SELECT count(*) FROM users) AS users, (SELECT count(*) FROM sessions) AS sessions,
       (SELECT count(*) FROM cart_items) AS cart_lines;
