#!/bin/bash
# Sync collector: a Databricks cluster-scoped init script that runs on every node (driver and workers).
#
# It records what Databricks forgets once a cluster is gone: each node's instance type, lifecycle
# (spot / on-demand), availability zone and start / last-seen / stop times, read from the EC2 instance
# metadata service (IMDSv2). One JSON document per node is written to
#   <SYNC_LOG_DESTINATION>/<cluster id>/sync_data/<instance id>.json
# and rewritten by a background heartbeat (every SYNC_HEARTBEAT_SECONDS, default 60 s) until the node stops;
# on SIGTERM (node shutdown) the heartbeat writes the stop time. Its pid is in $SYNC_STATE_DIR/heartbeat.pid.
#
# Inputs (spark_env_vars set by SyncDatabricksSubmitRunOperator; DB_* are set by Databricks):
#   SYNC_LOG_DESTINATION  s3://bucket/prefix or dbfs:/path (required; without it the script does nothing)
#   SYNC_LOG_REGION       AWS region of the S3 bucket (optional)
#   SYNC_PROJECT_ID       the Sync project (recorded for traceability)
#   DB_CLUSTER_ID, DB_IS_DRIVER, DB_INSTANCE_TYPE
# Test hooks: SYNC_IMDS_URL (default http://169.254.169.254), SYNC_COLLECTOR_ONESHOT=1 (write once, no
# heartbeat), SYNC_DBFS_ROOT (where dbfs:/ is mounted, default /dbfs).
#
# It must never break cluster start-up: every failure is logged and the script exits 0.

set -u

IMDS="${SYNC_IMDS_URL:-http://169.254.169.254}"
DEST="${SYNC_LOG_DESTINATION:-}"
CLUSTER_ID="${DB_CLUSTER_ID:-unknown-cluster}"
HEARTBEAT="${SYNC_HEARTBEAT_SECONDS:-60}"
DBFS_ROOT="${SYNC_DBFS_ROOT:-/dbfs}"
STATE_DIR="${SYNC_STATE_DIR:-/tmp/sync-collector}"
COLLECTOR_VERSION=1

log() { echo "sync-collector: $*" >&2; }

if [ -z "$DEST" ]; then
  log "SYNC_LOG_DESTINATION is not set: nothing to record"
  exit 0
fi

mkdir -p "$STATE_DIR" || exit 0

imds_token() {
  curl -s -f -m 2 -X PUT "$IMDS/latest/api/token" -H "X-aws-ec2-metadata-token-ttl-seconds: 21600" 2>/dev/null
}

imds_get() {  # imds_get TOKEN PATH -> value or empty
  local token="$1" path="$2"
  if [ -n "$token" ]; then
    curl -s -f -m 2 -H "X-aws-ec2-metadata-token: $token" "$IMDS/latest/meta-data/$path" 2>/dev/null
  fi
}

json_str() {  # a JSON string literal, or null when empty
  if [ -z "${1:-}" ]; then printf 'null'; else printf '"%s"' "$(printf '%s' "$1" | sed 's/\\/\\\\/g; s/"/\\"/g')"; fi
}

TOKEN="$(imds_token)"
INSTANCE_ID="$(imds_get "$TOKEN" instance-id)"
INSTANCE_TYPE="$(imds_get "$TOKEN" instance-type)"
AZ="$(imds_get "$TOKEN" placement/availability-zone)"
LIFECYCLE_RAW="$(imds_get "$TOKEN" instance-life-cycle)"
PRIVATE_IP="$(imds_get "$TOKEN" local-ipv4)"
METADATA_OK=true
if [ -z "$INSTANCE_ID" ]; then
  METADATA_OK=false
  log "instance metadata unreachable: recording what Databricks provides"
  INSTANCE_ID="$(hostname 2>/dev/null || echo node)-$$"
fi
INSTANCE_TYPE="${INSTANCE_TYPE:-${DB_INSTANCE_TYPE:-}}"
case "$LIFECYCLE_RAW" in
  spot) LIFECYCLE=spot ;;
  on-demand|normal|scheduled) LIFECYCLE=on-demand ;;
  *) LIFECYCLE="" ;;
esac
REGION=""
[ -n "$AZ" ] && REGION="${AZ%?}"
IS_DRIVER=false
[ "${DB_IS_DRIVER:-}" = "TRUE" ] || [ "${DB_IS_DRIVER:-}" = "true" ] && IS_DRIVER=true
START_TIME="$(date +%s)"
echo "$START_TIME" > "$STATE_DIR/start_time"

record() {  # record [stop_time] [spot_interruption_time]
  local stop="${1:-}" interrupted="${2:-}"
  cat <<EOF
{"collector_version": $COLLECTOR_VERSION, "cluster_id": $(json_str "$CLUSTER_ID"), "project_id": $(json_str "${SYNC_PROJECT_ID:-}"), "instance_id": $(json_str "$INSTANCE_ID"), "instance_type": $(json_str "$INSTANCE_TYPE"), "lifecycle": $(json_str "$LIFECYCLE"), "availability_zone": $(json_str "$AZ"), "region": $(json_str "$REGION"), "private_ip": $(json_str "$PRIVATE_IP"), "is_driver": $IS_DRIVER, "metadata_available": $METADATA_OK, "start_time": $START_TIME, "last_seen": $(date +%s), "stop_time": ${stop:-null}, "spot_interruption_time": ${interrupted:-null}}
EOF
}

upload() {  # upload LOCAL_FILE: copy to <dest>/<cluster>/sync_data/<instance>.json
  local file="$1" name="$INSTANCE_ID.json"
  case "$DEST" in
    dbfs:/*)
      local dir="$DBFS_ROOT/${DEST#dbfs:/}/$CLUSTER_ID/sync_data"
      mkdir -p "$dir" && cp "$file" "$dir/$name.tmp" && mv "$dir/$name.tmp" "$dir/$name"
      ;;
    s3://*)
      local url="$DEST/$CLUSTER_ID/sync_data/$name"
      if command -v aws >/dev/null 2>&1; then
        aws s3 cp "$file" "$url" --only-show-errors --sse AES256 --acl bucket-owner-full-control \
          ${SYNC_LOG_REGION:+--region "$SYNC_LOG_REGION"} ${SYNC_S3_ENDPOINT_URL:+--endpoint-url "$SYNC_S3_ENDPOINT_URL"}
      else
        local py=/databricks/python3/bin/python
        [ -x "$py" ] || py=python3
        "$py" - "$file" "$url" <<'PY'
import os, sys
import boto3
path, url = sys.argv[1], sys.argv[2]
bucket, _, key = url[len("s3://"):].partition("/")
client = boto3.client("s3", region_name=os.environ.get("SYNC_LOG_REGION") or None,
                      endpoint_url=os.environ.get("SYNC_S3_ENDPOINT_URL") or None)
with open(path, "rb") as fh:
    client.put_object(Bucket=bucket, Key=key, Body=fh.read(), ServerSideEncryption="AES256",
                      ACL="bucket-owner-full-control", ContentType="application/json")
PY
      fi
      ;;
    *) log "unsupported destination $DEST (use s3:// or dbfs:/)"; return 1 ;;
  esac
}

write() {
  record "$@" > "$STATE_DIR/record.json" && upload "$STATE_DIR/record.json" || log "could not write the node record to $DEST"
}

write
if [ "${SYNC_COLLECTOR_ONESHOT:-0}" = "1" ]; then
  exit 0
fi

# Heartbeat in the background so cluster start-up is not held up; the stop time is written on shutdown.
(
  interrupted=""
  echo "$BASHPID" > "$STATE_DIR/heartbeat.pid"
  trap 'write "$(date +%s)" "$interrupted"; exit 0' TERM INT
  while true; do
    sleep "$HEARTBEAT" &
    wait $!
    if [ -z "$interrupted" ]; then
      TOKEN="$(imds_token)"
      if [ -n "$(imds_get "$TOKEN" spot/instance-action)" ]; then
        interrupted="$(date +%s)"
      fi
    fi
    write "" "$interrupted"
  done
) >/dev/null 2>&1 </dev/null &
disown 2>/dev/null || true
exit 0
