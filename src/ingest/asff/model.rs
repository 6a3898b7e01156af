//! The parts of ASFF and GuardDuty documents remedybot reads, as typed serde structs.
//! Unknown fields are skipped without being stored.
//!
//! One struct, [`Node`], reads a finding and every wrapper around findings: the
//! `{"Findings": [...]}` export, EventBridge events (`detail.findings`), and GuardDuty's
//! native findings, so a document is parsed in one pass without buffering.

use std::fmt;

use serde::de::{self, IgnoredAny, MapAccess, Visitor};
use serde::{Deserialize, Deserializer};

#[derive(Deserialize, Default)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct Node {
    // Wrappers.
    #[serde(rename = "Findings")]
    pub findings_upper: Option<Vec<Node>>,
    #[serde(rename = "findings")]
    pub findings_lower: Option<Vec<Node>>,
    #[serde(rename = "detail")]
    pub detail: Option<Box<Node>>,
    #[serde(rename = "detail-type")]
    pub detail_type: Option<String>,
    pub records: Option<IgnoredAny>,

    // ASFF.
    pub id: Option<String>,
    pub product_arn: Option<String>,
    pub product_name: Option<String>,
    pub product_fields: Option<ProductFields>,
    pub generator_id: Option<String>,
    pub title: Option<String>,
    pub description: Option<String>,
    pub severity: Option<SeverityField>,
    pub finding_provider_fields: Option<ProviderFields>,
    #[serde(default)]
    pub resources: Vec<Resource>,
    pub region: Option<String>,
    pub aws_account_id: Option<String>,
    #[serde(default)]
    pub types: Vec<String>,
    pub remediation: Option<Remediation>,
    pub source_url: Option<String>,
    pub compliance: Option<Compliance>,
    pub workflow: Option<Workflow>,
    pub workflow_state: Option<String>,
    pub record_state: Option<String>,
    #[serde(default, deserialize_with = "lenient")]
    pub updated_at: Option<String>,
    pub note: Option<Note>,
    #[serde(default)]
    pub vulnerabilities: Vec<Vulnerability>,

    // GuardDuty's native format.
    #[serde(rename = "Type")]
    pub kind: Option<String>,
    pub arn: Option<String>,
    pub account_id: Option<String>,
    pub partition: Option<String>,
    pub resource: Option<GdResource>,
    pub service: Option<GdService>,
}

/// `Severity`: an object in ASFF, a number in GuardDuty's own format.
pub(crate) enum SeverityField {
    Score(f64),
    Object(AsffSeverity),
}

impl<'de> Deserialize<'de> for SeverityField {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = SeverityField;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a severity object or a number")
            }
            fn visit_f64<E: de::Error>(self, v: f64) -> Result<SeverityField, E> {
                Ok(SeverityField::Score(v))
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<SeverityField, E> {
                Ok(SeverityField::Score(v as f64))
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<SeverityField, E> {
                Ok(SeverityField::Score(v as f64))
            }
            fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<SeverityField, A::Error> {
                AsffSeverity::deserialize(de::value::MapAccessDeserializer::new(map))
                    .map(SeverityField::Object)
            }
        }
        d.deserialize_any(V)
    }
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct AsffSeverity {
    pub label: Option<String>,
    pub normalized: Option<f64>,
    pub product: Option<f64>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct ProviderFields {
    pub severity: Option<AsffSeverity>,
}

/// The few `ProductFields` keys remedybot reads. ASFF says their values are strings; a
/// producer that writes something else there loses only that key, not the finding.
#[derive(Deserialize)]
pub(crate) struct ProductFields {
    #[serde(
        rename = "aws/securityhub/ProductName",
        default,
        deserialize_with = "lenient"
    )]
    pub securityhub_product_name: Option<String>,
    #[serde(rename = "ProviderName", default, deserialize_with = "lenient")]
    pub provider_name: Option<String>,
    #[serde(rename = "Product Name", default, deserialize_with = "lenient")]
    pub product_name: Option<String>,
    #[serde(rename = "ControlId", default, deserialize_with = "lenient")]
    pub control_id: Option<String>,
}

/// A string, or `None` for any other JSON value.
fn lenient<'de, D: Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    struct V;
    impl<'de> Visitor<'de> for V {
        type Value = Option<String>;
        fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
            f.write_str("any JSON value")
        }
        fn visit_str<E: de::Error>(self, v: &str) -> Result<Option<String>, E> {
            Ok(Some(v.to_string()))
        }
        fn visit_string<E: de::Error>(self, v: String) -> Result<Option<String>, E> {
            Ok(Some(v))
        }
        fn visit_bool<E: de::Error>(self, _: bool) -> Result<Option<String>, E> {
            Ok(None)
        }
        fn visit_i64<E: de::Error>(self, _: i64) -> Result<Option<String>, E> {
            Ok(None)
        }
        fn visit_u64<E: de::Error>(self, _: u64) -> Result<Option<String>, E> {
            Ok(None)
        }
        fn visit_f64<E: de::Error>(self, _: f64) -> Result<Option<String>, E> {
            Ok(None)
        }
        fn visit_unit<E: de::Error>(self) -> Result<Option<String>, E> {
            Ok(None)
        }
        fn visit_seq<A: de::SeqAccess<'de>>(self, mut s: A) -> Result<Option<String>, A::Error> {
            while s.next_element::<IgnoredAny>()?.is_some() {}
            Ok(None)
        }
        fn visit_map<A: MapAccess<'de>>(self, mut m: A) -> Result<Option<String>, A::Error> {
            while m.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
            Ok(None)
        }
    }
    d.deserialize_any(V)
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct Resource {
    #[serde(rename = "Type")]
    pub kind: Option<String>,
    pub id: Option<String>,
    pub region: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct Remediation {
    pub recommendation: Option<Recommendation>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct Recommendation {
    pub text: Option<String>,
    pub url: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct Compliance {
    pub status: Option<String>,
    pub security_control_id: Option<String>,
    #[serde(default)]
    pub related_requirements: Vec<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct Workflow {
    pub status: Option<String>,
}

/// `Note`: the text a user left on the finding in Security Hub, and who.
#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct Note {
    #[serde(default, deserialize_with = "lenient")]
    pub text: Option<String>,
    #[serde(default, deserialize_with = "lenient")]
    pub updated_by: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct Vulnerability {
    pub id: Option<String>,
    #[serde(default)]
    pub reference_urls: Vec<String>,
    pub vendor: Option<Vendor>,
    #[serde(default)]
    pub vulnerable_packages: Vec<Package>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct Vendor {
    pub url: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct Package {
    pub name: Option<String>,
}

/// GuardDuty's `Resource`: the resource type and the detail block that names it.
#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct GdResource {
    pub resource_type: Option<String>,
    pub access_key_details: Option<GdAccessKey>,
    pub instance_details: Option<GdInstance>,
    #[serde(default)]
    pub s3_bucket_details: Vec<GdArn>,
    pub eks_cluster_details: Option<GdArn>,
    pub ecs_cluster_details: Option<GdArn>,
    pub lambda_details: Option<GdLambda>,
    pub rds_db_instance_details: Option<GdRds>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct GdAccessKey {
    pub access_key_id: Option<String>,
    pub user_name: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct GdInstance {
    pub instance_id: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct GdArn {
    pub arn: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct GdLambda {
    pub function_arn: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct GdRds {
    pub db_instance_arn: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct GdService {
    pub archived: Option<bool>,
    pub service_name: Option<String>,
}
