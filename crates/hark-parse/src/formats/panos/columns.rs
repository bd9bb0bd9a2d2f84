//! The columns of each PAN-OS log type, in the order PAN-OS 10.x/11.x
//! writes them, by the names the admin guide's "Syslog field
//! descriptions" give in parentheses. An empty name is a FUTURE_USE column.
//! docs/parsers/panos.md names the pages and sample lines each table was
//! checked against.

/// The first seven columns, shared by every type.
const HEAD: [&str; 7] = [
    "",
    "receive_time",
    "serial",
    "type",
    "subtype",
    "",
    "time_generated",
];

/// Columns 7 to 30 of TRAFFIC and THREAT.
macro_rules! session_columns {
    () => {
        [
            "src",
            "dst",
            "natsrc",
            "natdst",
            "rule",
            "srcuser",
            "dstuser",
            "app",
            "vsys",
            "from",
            "to",
            "inbound_if",
            "outbound_if",
            "logset",
            "",
            "sessionid",
            "repeatcnt",
            "sport",
            "dport",
            "natsport",
            "natdport",
            "flags",
            "proto",
            "action",
        ]
    };
}

/// Device-side identity columns shared by TRAFFIC and THREAT (10.x).
macro_rules! device_id_columns {
    () => {
        [
            "src_category",
            "src_profile",
            "src_model",
            "src_vendor",
            "src_osfamily",
            "src_osversion",
            "src_host",
            "src_mac",
            "dst_category",
            "dst_profile",
            "dst_model",
            "dst_vendor",
            "dst_osfamily",
            "dst_osversion",
            "dst_host",
            "dst_mac",
            "container_id",
            "pod_namespace",
            "pod_name",
            "src_edl",
            "dst_edl",
            "hostid",
            "serialnumber",
        ]
    };
}

const TRAFFIC_TAIL: &[&str] = &[
    "bytes",
    "bytes_sent",
    "bytes_received",
    "packets",
    "start",
    "elapsed",
    "category",
    "",
    "seqno",
    "actionflags",
    "srcloc",
    "dstloc",
    "",
    "pkts_sent",
    "pkts_received",
    "session_end_reason",
    "dg_hier_level_1",
    "dg_hier_level_2",
    "dg_hier_level_3",
    "dg_hier_level_4",
    "vsys_name",
    "device_name",
    "action_source",
    "src_uuid",
    "dst_uuid",
    "tunnelid_imsi",
    "monitortag_imei",
    "parent_session_id",
    "parent_start_time",
    "tunnel",
    "assoc_id",
    "chunks",
    "chunks_sent",
    "chunks_received",
    "rule_uuid",
    "http2_connection",
    "link_change_count",
    "policy_id",
    "link_switches",
    "sdwan_cluster",
    "sdwan_device_type",
    "sdwan_cluster_type",
    "sdwan_site",
    "dynusergroup_name",
    "xff_ip",
];

const TRAFFIC_END: &[&str] = &[
    "src_dag",
    "dst_dag",
    "session_owner",
    "high_res_timestamp",
    "nssai_sst",
    "nssai_sd",
    "subcategory_of_app",
    "category_of_app",
    "technology_of_app",
    "risk_of_app",
    "characteristic_of_app",
    "container_of_app",
    "tunneled_app",
    "is_saas_of_app",
    "sanctioned_state_of_app",
    "offloaded",
    "flow_type",
    "cluster_name",
];

const THREAT_TAIL: &[&str] = &[
    "misc",
    "threatid",
    "category",
    "severity",
    "direction",
    "seqno",
    "actionflags",
    "srcloc",
    "dstloc",
    "",
    "contenttype",
    "pcap_id",
    "filedigest",
    "cloud",
    "url_idx",
    "user_agent",
    "filetype",
    "xff",
    "referer",
    "sender",
    "subject",
    "recipient",
    "reportid",
    "dg_hier_level_1",
    "dg_hier_level_2",
    "dg_hier_level_3",
    "dg_hier_level_4",
    "vsys_name",
    "device_name",
    "",
    "src_uuid",
    "dst_uuid",
    "http_method",
    "tunnelid_imsi",
    "monitortag_imei",
    "parent_session_id",
    "parent_start_time",
    "tunnel",
    "thr_category",
    "contentver",
    "",
    "assoc_id",
    "ppid",
    "http_headers",
    "url_category_list",
    "rule_uuid",
    "http2_connection",
    "dynusergroup_name",
    "xff_ip",
];

const THREAT_END: &[&str] = &[
    "domain_edl",
    "src_dag",
    "dst_dag",
    "partial_hash",
    "high_res_timestamp",
    "reason",
    "justification",
    "nssai_sst",
    "subcategory_of_app",
    "category_of_app",
    "technology_of_app",
    "risk_of_app",
    "characteristic_of_app",
    "container_of_app",
    "tunneled_app",
    "is_saas_of_app",
    "sanctioned_state_of_app",
    "cloud_reportid",
    "cluster_name",
    "flow_type",
];

const SYSTEM_TAIL: &[&str] = &[
    "vsys",
    "eventid",
    "object",
    "",
    "",
    "module",
    "severity",
    "description",
    "seqno",
    "actionflags",
    "dg_hier_level_1",
    "dg_hier_level_2",
    "dg_hier_level_3",
    "dg_hier_level_4",
    "vsys_name",
    "device_name",
    "",
    "",
    "high_res_timestamp",
];

/// CONFIG as PAN-OS writes it by default, without the change details.
const CONFIG_SHORT_TAIL: &[&str] = &[
    "host",
    "vsys",
    "cmd",
    "admin",
    "client",
    "result",
    "path",
    "seqno",
    "actionflags",
    "dg_hier_level_1",
    "dg_hier_level_2",
    "dg_hier_level_3",
    "dg_hier_level_4",
    "vsys_name",
    "device_name",
    "dg_id",
    "comment",
    "",
    "high_res_timestamp",
];

/// CONFIG with "Before Change Detail" and "After Change Detail".
const CONFIG_TAIL: &[&str] = &[
    "host",
    "vsys",
    "cmd",
    "admin",
    "client",
    "result",
    "path",
    "before_change_detail",
    "after_change_detail",
    "seqno",
    "actionflags",
    "dg_hier_level_1",
    "dg_hier_level_2",
    "dg_hier_level_3",
    "dg_hier_level_4",
    "vsys_name",
    "device_name",
    "dg_id",
    "comment",
    "",
    "high_res_timestamp",
];

const GLOBALPROTECT_TAIL: &[&str] = &[
    "vsys",
    "eventid",
    "stage",
    "auth_method",
    "tunnel_type",
    "srcuser",
    "srcregion",
    "machinename",
    "public_ip",
    "public_ipv6",
    "private_ip",
    "private_ipv6",
    "hostid",
    "serialnumber",
    "client_ver",
    "client_os",
    "client_os_ver",
    "repeatcnt",
    "reason",
    "error",
    "description",
    "status",
    "location",
    "login_duration",
    "connect_method",
    "error_code",
    "portal",
    "seqno",
    "actionflags",
    "high_res_timestamp",
    "selection_type",
    "response_time",
    "priority",
    "attempted_gateways",
    "gateway",
    "dg_hier_level_1",
    "dg_hier_level_2",
    "dg_hier_level_3",
    "dg_hier_level_4",
    "vsys_name",
    "device_name",
    "vsys_id",
    "cluster_name",
];

const USERID_TAIL: &[&str] = &[
    "vsys",
    "ip",
    "user",
    "datasourcename",
    "eventid",
    "repeatcnt",
    "timeout",
    "beginport",
    "endport",
    "datasource",
    "datasourcetype",
    "seqno",
    "actionflags",
    "dg_hier_level_1",
    "dg_hier_level_2",
    "dg_hier_level_3",
    "dg_hier_level_4",
    "vsys_name",
    "device_name",
    "vsys_id",
    "factortype",
    "factorcompletiontime",
    "factorno",
    "ugflags",
    "userbysource",
    "tag_name",
    "high_res_timestamp",
    "origin_data_source",
    "",
    "cluster_name",
];

/// The log types this parser names columns for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum LogType {
    Traffic,
    Threat,
    System,
    Config,
    GlobalProtect,
    UserId,
    /// A type without a column table: only the shared head is named.
    Other,
}

impl LogType {
    pub(super) fn of(name: &str) -> LogType {
        match name {
            "TRAFFIC" => LogType::Traffic,
            "THREAT" => LogType::Threat,
            "SYSTEM" => LogType::System,
            "CONFIG" => LogType::Config,
            "GLOBALPROTECT" => LogType::GlobalProtect,
            "USERID" => LogType::UserId,
            _ => LogType::Other,
        }
    }
}

/// The name of column `n` of a `log_type` log; `None` past the known
/// columns, `Some("")` for a FUTURE_USE column. `short_config` selects the
/// CONFIG form without change details.
pub(super) fn column(log_type: LogType, short_config: bool, n: usize) -> Option<&'static str> {
    if let Some(name) = HEAD.get(n) {
        return Some(name);
    }
    let n = n - HEAD.len();
    const SESSION: [&str; 24] = session_columns!();
    const DEVICE: [&str; 23] = device_id_columns!();
    let parts: &[&[&'static str]] = match log_type {
        LogType::Traffic => &[&SESSION, TRAFFIC_TAIL, &DEVICE, TRAFFIC_END],
        LogType::Threat => &[&SESSION, THREAT_TAIL, &DEVICE, THREAT_END],
        LogType::System => &[SYSTEM_TAIL],
        LogType::Config if short_config => &[CONFIG_SHORT_TAIL],
        LogType::Config => &[CONFIG_TAIL],
        LogType::GlobalProtect => &[GLOBALPROTECT_TAIL],
        LogType::UserId => &[USERID_TAIL],
        LogType::Other => &[],
    };
    let mut n = n;
    for part in parts {
        match part.get(n) {
            Some(name) => return Some(name),
            None => n -= part.len(),
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn positions_match_the_admin_guide() {
        assert_eq!(column(LogType::Traffic, false, 7), Some("src"));
        assert_eq!(column(LogType::Traffic, false, 30), Some("action"));
        assert_eq!(column(LogType::Traffic, false, 52), Some("device_name"));
        assert_eq!(column(LogType::Traffic, false, 65), Some("rule_uuid"));
        assert_eq!(column(LogType::Traffic, false, 75), Some("xff_ip"));
        assert_eq!(
            column(LogType::Traffic, false, 102),
            Some("high_res_timestamp")
        );
        assert_eq!(column(LogType::Traffic, false, 116), Some("cluster_name"));
        assert_eq!(column(LogType::Traffic, false, 117), None);
        assert_eq!(column(LogType::Threat, false, 32), Some("threatid"));
        assert_eq!(column(LogType::Threat, false, 59), Some("device_name"));
        assert_eq!(column(LogType::Threat, false, 76), Some("rule_uuid"));
        assert_eq!(
            column(LogType::Threat, false, 107),
            Some("high_res_timestamp")
        );
        assert_eq!(column(LogType::System, false, 22), Some("device_name"));
        assert_eq!(
            column(LogType::System, false, 25),
            Some("high_res_timestamp")
        );
        assert_eq!(column(LogType::Config, true, 21), Some("device_name"));
        assert_eq!(column(LogType::Config, false, 23), Some("device_name"));
        assert_eq!(column(LogType::UserId, false, 25), Some("device_name"));
        assert_eq!(
            column(LogType::GlobalProtect, false, 36),
            Some("high_res_timestamp")
        );
        assert_eq!(column(LogType::Other, false, 7), None);
    }

    /// User Group Flags follows Factor Number directly (no FUTURE_USE
    /// columns between them), and a FUTURE_USE column precedes Cluster Name.
    #[test]
    fn userid_tail_has_no_future_use_before_group_flags() {
        assert_eq!(column(LogType::UserId, false, 29), Some("factorno"));
        assert_eq!(column(LogType::UserId, false, 30), Some("ugflags"));
        assert_eq!(column(LogType::UserId, false, 31), Some("userbysource"));
        assert_eq!(column(LogType::UserId, false, 32), Some("tag_name"));
        assert_eq!(
            column(LogType::UserId, false, 33),
            Some("high_res_timestamp")
        );
        assert_eq!(
            column(LogType::UserId, false, 34),
            Some("origin_data_source")
        );
        assert_eq!(column(LogType::UserId, false, 35), Some(""));
        assert_eq!(column(LogType::UserId, false, 36), Some("cluster_name"));
        assert_eq!(column(LogType::UserId, false, 37), None);
    }
}
