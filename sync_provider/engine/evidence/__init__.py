"""Run evidence: event-log profile, cluster report, instance catalog, cost model, Photon ROI (no Airflow here).

Import from the modules: `eventlog` (parse_eventlog, summarize, readers), `cluster_report`, `cost`, `observe`,
`photon`, `catalog`, `profile`. See docs/evidence.md.
"""
