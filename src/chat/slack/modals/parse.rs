//! A submission's `view.state.values` as the neutral answers (block id → value), parsed by
//! [`crate::chat::prompts`]. Choices come from menus, so they are taken exactly.

use chrono::NaiveDate;
use serde_json::Value;

use super::{Prompt, field};
use crate::chat::prompts::{self, Answers, Entry, Errors};
use crate::domain::{Command, Policy, Severity};

pub(super) fn submission(
    prompt: Prompt,
    values: &Value,
    current: Severity,
    policy: &Policy,
    today: NaiveDate,
) -> Result<Command, Errors> {
    prompts::parse(
        prompt,
        &answers(values),
        current,
        policy,
        today,
        Entry::Menus,
    )
}

/// Every input's answer, read where the modals put it (action id = block id).
fn answers(values: &Value) -> Answers {
    let blocks = values.as_object().into_iter().flatten();
    blocks
        .filter_map(|(block, _)| Some((block.clone(), field(values, block, block)?)))
        .collect()
}

/// The parser over one submission, with the fields it read (for the test that ties each
/// modal to its parser).
#[cfg(test)]
pub(super) struct Form {
    answers: Answers,
    pub(super) read: Vec<&'static str>,
}

#[cfg(test)]
impl Form {
    pub(super) fn new(values: &Value) -> Self {
        Form {
            answers: answers(values),
            read: Vec::new(),
        }
    }

    pub(super) fn parse(
        &mut self,
        prompt: Prompt,
        current: Severity,
        policy: &Policy,
        today: NaiveDate,
    ) -> Command {
        let mut form = prompts::Form::new(&self.answers, Entry::Menus);
        let command = form.parse(prompt, current, policy, today);
        self.read = form.read;
        command
    }
}
