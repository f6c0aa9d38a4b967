-- upsert-pipelined.sql -- upsert.sql with the transaction in one pipeline
-- (\startpipeline ... \endpipeline: one round trip, as pg_store sends a
-- persist). Needs -M extended or -M prepared. Everything else as upsert.sql.
\set sid random(1, 10000)
\startpipeline
BEGIN;
INSERT INTO bench.fields AS f (sid, field, v, val)
  SELECT 'pgb' || CAST(:sid AS text), u.field,
         (extract(epoch FROM clock_timestamp()) * 1000000)::bigint,
         convert_to(u.val, 'UTF8')
  FROM unnest(ARRAY['k' || chr(58) || 'session/' || CAST(:client_id AS text) || '.0', 'k' || chr(58) || 'tctoken/' || CAST(:client_id AS text)],
              ARRAY['{"type":"Buffer","data":"9zUChbwJKOn8PQQO4c6uJdux/149HVZ3tVtHZENYOu/bNN9azFA5Tuy6gms7k3TXa30UdpDMXHCRUO6xpXNnxt3P/hB99fHWBDIjiCyd8Miw2LgESYd+JuPbGeQdZQwSd7nX645LZuyAOy2L8oBaFDxPTyrToFFj53lW3nHIEsHo1stFeSQdrX5jYAPXQu33vRdJEApz5A/xQSjSf5B73/l/C4APedcUkfV2O8fBl3KxuEGtFZwCDlXAptVhb1gOnu+0TZhyT4zSB8xu5N7kYgPkq+pZnWPohAAkQD9//INUU+k+r5ZQfVEAmlqzOVfsD9ospNyBuvIb/NW5k2ZV3+TbIFUZUFd1vJ2MnnuS6B9k7cmUARnI2Ce1p3bWKKcylIuMnsBSXmc7+o6lhaAd/oe5d5Yo1LWvx+tWdd2a/JGp9mgHRVYhwkVb/y8Pd+r+spXINhkRpUA0vq0Sy+G4cYkp4uM6Uiid3eAOXms5a73gK1/AkSWALHr/eet3d5grbhFsRuxx+b0/qvL6BnNVZ+amKwirlf4AnK11cQdWc+J2mMlDY3TOcWeyooDCHyqr9FBz6XpU+LWSd4UVNtk4K8KNgWaoG7JmrlRS5tzdc0Et795F5moeTeKwsDhFKZNC7EomcqiCPfQme/OE/h6nPso3ZfptOJ1J0GizpXimoK1nvs/z3njGOVLNYVr6V2BUqlUYxiF/OfWsvDqSqNMSLbGHs05BNz1/QPt+2i/WPNfNfO9eKeCEpag28+6P2YiaxaLJ+LZUnxzPmQpCxA84CVrYZFSFS5ejluhRUlxrp43uoGHAAuvaeeO+15GiOmqyEKvrKm8jHw+fFguhY76aic1vWycyiVjo0v8X8CMNWYXzQuKE94IMcIAHJQGVcMvzeziwJK4rgZ5j/j3LuDj7t/fz7G3ZVKfOfgwexMyLLmXu79uSSPToUMHDz6Ab4EX3J4TwAz5BcSTA92VIoRKfhmH87Tir1b0Nu36eWSst6jLxHBpLXq4vPSHhlEtu8yKQez+yBSKEpeaowdUJ/8nhyl9tFXtVmyul2rJdyY8OuaR1Dv98qFWYmirHPWewXXD0lPvhZa3G1vBdYBEkRq7nnz2dHxgRN/9nNVATbls3C9O6YbAzbIy5agSRy9ukBMABJBXzGPzxevlRLoRptdZ2tosL8x21GWMn6M7J4wUgfkhNjU5SXnXW35yBP/ERyCZPYFWK3n+hbUWHLE9x80s4AV5hqPPWOmdfovZBEwIz+OwRXMPSCKhM1YM75q7N5kwEAi/AJb7Y7s4iD6ubnsLg4NhRxDPZURSu/ESa8+WjJs6EDOPU9zqcheSkBSwam0Hm3za2MW1K6iCDPCWf8QG9Uf6Wx86BxuUNIe8BiUMl89gWjsFTiZYhiTVfuBpjKOERDYaTKtnrPeJGw5SELJGlwewwUd4rgeHADafaD2sczCxgjPWVp/+YfxK3lHU="}',
                    '{"type":"Buffer","data":"PPy1eVE6OmAjTUGRH0xHnomz2zzGfVx+7P9Z7W3Qi3qZdX7vqXIyxDaAVZ5wWkBKkVQSX2xodUKa5yS4p5t2hOwTIwdmX8ja77jP"}']) AS u(field, val)
  WHERE NOT EXISTS (SELECT 1 FROM bench.sessions s
                    WHERE s.sid = 'pgb' || CAST(:sid AS text)
                      AND s.dv >= (extract(epoch FROM clock_timestamp()) * 1000000)::bigint)
  ON CONFLICT (sid, field) DO UPDATE SET v = excluded.v, val = excluded.val
  WHERE f.v < excluded.v;
INSERT INTO bench.sessions AS s (sid, v)
  VALUES ('pgb' || CAST(:sid AS text), (extract(epoch FROM clock_timestamp()) * 1000000)::bigint)
  ON CONFLICT (sid) DO UPDATE SET v = excluded.v WHERE s.v < excluded.v;
COMMIT;
\endpipeline
