-- Every sweep rewrites each live VOD's row (max viewers, last seen) in batches of thousands, so all the
-- rows of a page are updated in one transaction. An update stays on its page without touching any index
-- (a HOT update) only when the page has room for the new version: at fillfactor 100 almost none do
-- (1.3% measured), at 70 89%, at 50 all of them (docs/benchmarks.md, npm run bench:hot), and the
-- table ends smaller, since non-HOT updates leave dead versions and index entries until a vacuum.
-- Pages written from now on follow it; `VACUUM FULL vods` rewrites the old ones.
ALTER TABLE "vods" SET (fillfactor = 50);
