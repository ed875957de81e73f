//! The SLS protobuf decoders on arbitrary bytes: a PutLogs body (one LogGroup) and a PullLogs
//! body (a LogGroupList). They must return a value or an error, never panic.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = wproc::sls::proto::decode_log_group(data);
    if let Ok(list) = wproc::sls::proto::decode_log_group_list(data) {
        for group in &list.log_groups {
            for log in &group.logs {
                for content in &log.contents {
                    let _ = content.value_str();
                }
            }
        }
    }
});
