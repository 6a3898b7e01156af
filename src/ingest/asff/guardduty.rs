//! Amazon GuardDuty's native finding format (`aws guardduty get-findings`, SchemaVersion
//! 2.0): `Severity` is a number, the finding has an `Arn`, a `Type` and one `Resource`.

use super::model::{GdResource, Node};
use super::{AsffStatus, Draft, Said, one_line, push, required};
use crate::domain::{Actor, Fingerprint, NewFinding};
use crate::ingest::severity::from_guardduty;
use crate::ingest::{MAX_DESCRIPTION, MAX_TITLE, clip};

/// One GuardDuty finding. Its fingerprint is the one the same finding gets when it arrives
/// through Security Hub (ProductArn `…::product/aws/guardduty`, Id = the finding's ARN), so
/// both routes name one finding.
pub(super) fn finding(n: Node) -> Result<Option<Draft>, String> {
    let arn = required(n.arn.as_deref(), "Arn")?;
    let rule_id = required(n.kind.as_deref(), "Type")?;
    let title = one_line(required(n.title.as_deref(), "Title")?);
    let score = match &n.severity {
        Some(super::model::SeverityField::Score(x)) => *x,
        Some(super::model::SeverityField::Object(_)) => {
            return Err("Severity is an object; GuardDuty findings carry a number".into());
        }
        None => return Err("no Severity".into()),
    };
    let severity =
        from_guardduty(score).ok_or_else(|| format!("Severity {score} is outside 0–10"))?;
    // arn:PARTITION:guardduty:REGION:ACCOUNT:detector/…/finding/…
    let parts: Vec<&str> = arn.splitn(6, ':').collect();
    let from_arn = |i: usize| parts.get(i).map(|s| s.to_string()).unwrap_or_default();
    let partition = n.partition.clone().unwrap_or_else(|| from_arn(1));
    let partition = if partition.is_empty() {
        "aws".into()
    } else {
        partition
    };
    let region = n.region.clone().unwrap_or_else(|| from_arn(3));
    let account = n.account_id.clone().unwrap_or_else(|| from_arn(4));
    let asset = asset(n.resource.as_ref(), &partition, &region, &account)
        .ok_or("no Resource detail and no AccountId to name the asset")?;
    let location = match (account.is_empty(), region.is_empty()) {
        (false, false) => format!("{account}/{region}"),
        (false, true) => account.clone(),
        _ => region.clone(),
    };
    let mut tags = Vec::new();
    if let Some((purpose, _)) = rule_id.split_once(':') {
        push(&mut tags, purpose);
    }
    if let Some(t) = n.resource.as_ref().and_then(|r| r.resource_type.as_deref()) {
        push(&mut tags, t);
    }
    let archived = n.service.as_ref().and_then(|s| s.archived).unwrap_or(false);
    let source = n
        .service
        .as_ref()
        .and_then(|s| s.service_name.as_deref())
        .map(|s| s.trim().to_ascii_lowercase())
        .filter(|s| !s.is_empty())
        .unwrap_or_else(|| "guardduty".into());
    let product_arn = format!("arn:{partition}:securityhub:{region}::product/aws/guardduty");
    Ok(Some(Draft {
        finding: NewFinding {
            fingerprint: Fingerprint::derive("asff", &product_arn, &arn, ""),
            source: clip(&source, MAX_TITLE),
            rule_id: clip(&rule_id, MAX_TITLE),
            title: clip(&title, MAX_TITLE),
            description: clip(n.description.as_deref().unwrap_or(""), MAX_DESCRIPTION),
            severity,
            asset: clip(&asset, MAX_TITLE),
            location: clip(&location, MAX_TITLE),
            tags,
            references: Vec::new(),
            owner: None,
        },
        status: if archived {
            AsffStatus::Suppressed
        } else {
            AsffStatus::Active
        },
        product_arn,
        id: arn,
        said: Said {
            actor: Actor::new("aws", "guardduty", "Amazon GuardDuty"),
            phrase: "archived in Amazon GuardDuty",
            by: None,
            updated_at: n.updated_at.clone().filter(|s| !s.trim().is_empty()),
            note: None,
            link: None,
        },
    }))
}

/// The affected resource in the form Security Hub gives it in `Resources[0].Id`.
fn asset(r: Option<&GdResource>, partition: &str, region: &str, account: &str) -> Option<String> {
    let nonempty = |s: Option<&String>| s.map(|s| s.trim().to_string()).filter(|s| !s.is_empty());
    if let Some(r) = r {
        let found = nonempty(
            r.instance_details
                .as_ref()
                .and_then(|i| i.instance_id.as_ref()),
        )
        .map(|id| format!("arn:{partition}:ec2:{region}:{account}:instance/{id}"))
        .or_else(|| {
            nonempty(
                r.access_key_details
                    .as_ref()
                    .and_then(|k| k.access_key_id.as_ref()),
            )
            .map(|id| format!("AWS::IAM::AccessKey:{id}"))
        })
        .or_else(|| {
            nonempty(
                r.access_key_details
                    .as_ref()
                    .and_then(|k| k.user_name.as_ref()),
            )
            .map(|u| format!("AWS::IAM::User:{account}:{u}"))
        })
        .or_else(|| nonempty(r.s3_bucket_details.first().and_then(|b| b.arn.as_ref())))
        .or_else(|| nonempty(r.eks_cluster_details.as_ref().and_then(|c| c.arn.as_ref())))
        .or_else(|| nonempty(r.ecs_cluster_details.as_ref().and_then(|c| c.arn.as_ref())))
        .or_else(|| {
            nonempty(
                r.lambda_details
                    .as_ref()
                    .and_then(|l| l.function_arn.as_ref()),
            )
        })
        .or_else(|| {
            nonempty(
                r.rds_db_instance_details
                    .as_ref()
                    .and_then(|d| d.db_instance_arn.as_ref()),
            )
        });
        if found.is_some() {
            return found;
        }
    }
    (!account.trim().is_empty()).then(|| format!("AWS::::Account:{}", account.trim()))
}
