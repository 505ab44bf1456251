//! Risk administration as a domain: rule documents created, replaced and deleted (a new version
//! each time, the history kept) and values put on or taken off named lists. Pure: the engine
//! loads the named rules into a [`Cx`], runs [`apply`], and persists the [`ChangeSet`] with the
//! command's audit record. Documents are validated at the edge ([`crate::Rule::parse`]).

use std::collections::{BTreeSet, HashMap};

/// A stored rule document.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RuleRecord {
    /// Rule id.
    pub id: String,
    /// 1, 2, ... one per change.
    pub version: i64,
    /// The JSON document.
    pub document: String,
    /// Deleted (the history stays).
    pub deleted: bool,
    /// Last change, µs.
    pub updated_at_us: i64,
}

/// A change to the risk rules or lists.
#[derive(Debug, Clone)]
pub enum Command {
    /// Create (`create`) or replace a rule document (validated by the caller).
    PutRule {
        /// Rule id.
        id: String,
        /// The JSON document.
        document: String,
        /// True: refuse if it exists; false: refuse if it does not.
        create: bool,
    },
    /// Delete a rule.
    DeleteRule {
        /// Rule id.
        id: String,
    },
    /// Put a value on a named list, or take it off.
    ListItem {
        /// List name.
        list: String,
        /// The value (a user id, device, IP, country, merchant, card BIN...).
        value: String,
        /// Add (true) or remove.
        add: bool,
    },
}

/// What a batch's risk commands need loaded (and locked): the rules they name.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Keys {
    /// Rule ids.
    pub rules: BTreeSet<String>,
}

/// What a risk command answers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Output {
    /// The rule after the change.
    Rule(RuleRecord),
    /// (list, value, on the list now).
    ListItem(String, String, bool),
}

/// Why a risk command was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Error {
    /// Creating a rule whose id is taken.
    #[error("rule `{0}` exists")]
    RuleExists(String),
    /// Changing a rule that does not exist (or was deleted).
    #[error("no rule `{0}`")]
    RuleNotFound(String),
}

/// What risk commands persist, in order.
#[derive(Debug, Default)]
pub struct ChangeSet {
    /// New rule versions (the rule row and its history row).
    pub rules: Vec<RuleRecord>,
    /// (list, value, add).
    pub list_changes: Vec<(String, String, bool)>,
}

/// The state a risk command works on.
pub struct Cx<'a> {
    /// The batch's time, µs.
    pub now: i64,
    /// The loaded rules the batch names (deleted ones included), by id.
    pub rules: &'a mut HashMap<String, RuleRecord>,
    /// What to persist.
    pub changes: &'a mut ChangeSet,
}

impl Command {
    /// Adds what this command needs to the batch's `keys`.
    pub fn keys(&self, keys: &mut Keys) {
        match self {
            Command::PutRule { id, .. } | Command::DeleteRule { id } => {
                keys.rules.insert(id.clone());
            }
            Command::ListItem { .. } => {}
        }
    }

    /// The audit action and the resource the command names before it runs.
    pub fn action(&self) -> (&'static str, Option<(&'static str, String)>) {
        match self {
            Command::PutRule { id, create: true, .. } => ("risk_rule.create", Some(("risk_rule", id.clone()))),
            Command::PutRule { id, create: false, .. } => ("risk_rule.update", Some(("risk_rule", id.clone()))),
            Command::DeleteRule { id } => ("risk_rule.delete", Some(("risk_rule", id.clone()))),
            Command::ListItem { list, add: true, .. } => ("risk_list.add", Some(("risk_list", list.clone()))),
            Command::ListItem { list, add: false, .. } => ("risk_list.remove", Some(("risk_list", list.clone()))),
        }
    }
}

/// Applies a risk command to the borrowed state.
pub fn apply(cx: &mut Cx<'_>, command: &Command) -> Result<Output, Error> {
    match command {
        Command::PutRule { id, document, create } => {
            let current = cx.rules.get(id).filter(|r| !r.deleted);
            match (create, current) {
                (true, Some(_)) => return Err(Error::RuleExists(id.clone())),
                (false, None) => return Err(Error::RuleNotFound(id.clone())),
                _ => {}
            }
            let version = cx.rules.get(id).map_or(1, |r| r.version + 1);
            let record = RuleRecord {
                id: id.clone(),
                version,
                document: document.clone(),
                deleted: false,
                updated_at_us: cx.now,
            };
            Ok(Output::Rule(cx.record(record)))
        }
        Command::DeleteRule { id } => {
            let Some(current) = cx.rules.get(id).filter(|r| !r.deleted) else {
                return Err(Error::RuleNotFound(id.clone()));
            };
            let record =
                RuleRecord { version: current.version + 1, deleted: true, updated_at_us: cx.now, ..current.clone() };
            Ok(Output::Rule(cx.record(record)))
        }
        Command::ListItem { list, value, add } => {
            cx.changes.list_changes.push((list.clone(), value.clone(), *add));
            Ok(Output::ListItem(list.clone(), value.clone(), *add))
        }
    }
}

impl Cx<'_> {
    fn record(&mut self, record: RuleRecord) -> RuleRecord {
        self.rules.insert(record.id.clone(), record.clone());
        self.changes.rules.push(record.clone());
        record
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn rules_get_a_version_per_change_and_keep_their_history() {
        let (mut rules, mut changes) = (HashMap::new(), ChangeSet::default());
        let mut run = |now: i64, c: Command| apply(&mut Cx { now, rules: &mut rules, changes: &mut changes }, &c);
        let put = |create: bool, doc: &str| Command::PutRule { id: "r".into(), document: doc.into(), create };
        assert_eq!(run(1, put(false, "{}")), Err(Error::RuleNotFound("r".into())), "replace needs a rule");
        let Ok(Output::Rule(r)) = run(1, put(true, "{\"a\":1}")) else { panic!() };
        assert_eq!((r.version, r.deleted), (1, false));
        assert_eq!(run(2, put(true, "{}")), Err(Error::RuleExists("r".into())));
        let Ok(Output::Rule(r)) = run(3, put(false, "{\"a\":2}")) else { panic!() };
        assert_eq!((r.version, r.document.as_str(), r.updated_at_us), (2, "{\"a\":2}", 3));
        let Ok(Output::Rule(r)) = run(4, Command::DeleteRule { id: "r".into() }) else { panic!() };
        assert_eq!((r.version, r.deleted, r.document.as_str()), (3, true, "{\"a\":2}"));
        assert_eq!(run(5, Command::DeleteRule { id: "r".into() }), Err(Error::RuleNotFound("r".into())));
        let Ok(Output::Rule(r)) = run(6, put(true, "{\"b\":1}")) else { panic!() };
        assert_eq!(r.version, 4, "a rule made again after a delete continues its versions");
        let list = Command::ListItem { list: "l".into(), value: "v".into(), add: true };
        assert_eq!(run(7, list), Ok(Output::ListItem("l".into(), "v".into(), true)));
        let versions: Vec<i64> = changes.rules.iter().map(|r| r.version).collect();
        assert_eq!(versions, [1, 2, 3, 4]);
        assert_eq!(changes.list_changes, [("l".to_string(), "v".to_string(), true)]);
    }

    #[test]
    fn keys_and_actions_name_the_rule_or_list() {
        let mut keys = Keys::default();
        Command::DeleteRule { id: "r".into() }.keys(&mut keys);
        Command::ListItem { list: "l".into(), value: "v".into(), add: false }.keys(&mut keys);
        assert_eq!(keys.rules.iter().collect::<Vec<_>>(), ["r"]);
        let remove = Command::ListItem { list: "l".into(), value: "v".into(), add: false };
        assert_eq!(remove.action(), ("risk_list.remove", Some(("risk_list", "l".to_string()))));
    }
}
