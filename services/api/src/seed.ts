/**
 * Spreads $1 VODs (ids from 40000000001), each archived one with the playlist $2, over 60 days
 * before now: 5,000 streamers (user0..user4999), 300 categories, 10 languages; 80% archived, 10% not found, 10% pending.
 */
export const SEED_VODS_SQL = `
  insert into vods (stream_id, start_time, streamer_id, login, title, game_id, game_name, language, mature, max_viewers,
                    first_seen, last_seen, outcome, fetched_at, duration_seconds, segment_count, muted_count, playlist_gz, public, sub_only)
  select 40000000000 + i,
         now() - (i::float8 / $1 * interval '60 days'),
         1000 + (i * 7919) % 5000,
         'user' || ((i * 7919) % 5000),
         'title ' || i,
         (500000 + (i * 31) % 300)::text,
         'Game ' || ((i * 31) % 300),
         (array['EN','ES','PT','DE','RU','FR','JA','KO','IT','PL'])[(1 + (i * 13) % 10)::int],
         i % 11 = 0,
         ((i * 104729) % 20000)::int,
         now() - (i::float8 / $1 * interval '60 days'),
         now() - (i::float8 / $1 * interval '60 days') + interval '2 hours',
         case when i % 10 < 8 then 'found' when i % 10 = 8 then 'not_found' else null end,
         case when i % 10 < 9 then now() - (i::float8 / $1 * interval '60 days') + interval '3 hours' end,
         case when i % 10 < 8 then 7200 end,
         case when i % 10 < 8 then 720 end,
         case when i % 10 < 8 then ((i % 7) * 3)::int end,
         case when i % 10 < 8 then $2::bytea end,
         case when i % 10 = 9 then null else i % 5 <> 0 end,
         i % 5 = 0
    from generate_series(1::bigint, $1::bigint) as s(i)`;
