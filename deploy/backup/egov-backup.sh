#!/bin/sh
# egov-eval backups (docs/deployment.md, "Backups").
#
#   egov-backup.sh dump   a logical dump (pg_dump, custom format) of the whole database: every
#                         rating, roll-up, token, case, key hash, run and app_secret (the server
#                         secret when it was generated in the database); checked by listing it
#                         with pg_restore and recorded with its SHA-256. Nightly.
#   egov-backup.sh base   a physical base backup (pg_basebackup, tar, compressed, with the WAL
#                         it needs); with WAL archiving (archive_command) it is the start of a
#                         point-in-time recovery. Weekly.
#
# Connection: the libpq variables (PGHOST, PGPORT, PGUSER, PGDATABASE, a ~/.pgpass); base
# backups need a role with REPLICATION. Where: EGOV_BACKUP_DIR (default /var/backups/egov).
# Kept: EGOV_BACKUP_KEEP_DAYS (default 35) days. Files are created readable by the owner only:
# a dump holds pseudonyms, comments and, unless EGOV_SECRET_KEY is used, the secret that keys
# them; copy them off the host encrypted.
set -eu

mode=${1:-dump}
dir=${EGOV_BACKUP_DIR:-/var/backups/egov}
keep=${EGOV_BACKUP_KEEP_DAYS:-35}
db=${PGDATABASE:-egov}
stamp=$(date -u +%Y%m%dT%H%M%SZ)
umask 077

case "$mode" in
dump)
    mkdir -p "$dir/dump"
    out="$dir/dump/$db-$stamp.dump"
    pg_dump --format=custom --no-password --file="$out.partial" --dbname="$db"
    pg_restore --list "$out.partial" >/dev/null # a readable archive, or fail now
    mv "$out.partial" "$out"
    (cd "$dir/dump" && sha256sum "$(basename "$out")" >"$(basename "$out").sha256")
    find "$dir/dump" -name "$db-*.dump*" -mtime +"$keep" -delete
    echo "$out"
    ;;
base)
    mkdir -p "$dir/base"
    out="$dir/base/$stamp"
    pg_basebackup --no-password --pgdata="$out.partial" --format=tar --gzip \
        --wal-method=stream --checkpoint=fast --manifest-checksums=SHA256
    mv "$out.partial" "$out"
    find "$dir/base" -mindepth 1 -maxdepth 1 -type d -mtime +"$keep" -exec rm -rf {} +
    echo "$out"
    ;;
*)
    echo "usage: $0 dump|base" >&2
    exit 2
    ;;
esac
