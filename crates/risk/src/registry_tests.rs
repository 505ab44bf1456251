//! The registry's life cycle without a database: versions per name, training outcomes,
//! deployment with its rollback, challengers, and every refusal leaving the registry as it was.
#![allow(clippy::unwrap_used)]

use super::*;

const NOW: i64 = 1_700_000_000_000_000;

fn register(id: &str, name: &str, artifact: bool) -> Command {
    Command::Register(Box::new(NewModel {
        id: id.into(),
        name: name.into(),
        kind: ModelKind::LogisticRegression,
        features: vec!["amount".into()],
        artifact: artifact.then(|| "{}".to_string()),
        merchant_risk: "{}".into(),
        metadata: "{}".into(),
        dataset_rows: 10,
        created_by: "key_1".into(),
    }))
}

fn registry(commands: &[Command]) -> (HashMap<String, ModelRecord>, ChangeSet) {
    let (mut models, mut changes) = (HashMap::new(), ChangeSet::default());
    for c in commands {
        apply(&mut models, &mut changes, NOW, c).unwrap();
    }
    (models, ChangeSet::default())
}

fn status(models: &HashMap<String, ModelRecord>, id: &str) -> ModelStatus {
    models[id].status
}

#[test]
fn versions_count_per_name_and_an_artifact_makes_a_model_testing() {
    let (models, _) =
        registry(&[register("m1", "fraud", true), register("m2", "fraud", false), register("m3", "other", true)]);
    let v = |id: &str| (models[id].version, models[id].status);
    assert_eq!(v("m1"), (1, ModelStatus::Testing));
    assert_eq!(v("m2"), (2, ModelStatus::Training));
    assert_eq!(v("m3"), (1, ModelStatus::Testing));
    assert_eq!(models["m1"].trained_at_us, Some(NOW));
    assert_eq!(models["m2"].trained_at_us, None);
}

#[test]
fn training_ends_testing_with_its_artifact_or_deprecated_with_its_error() {
    let (mut models, mut changes) = registry(&[register("m1", "fraud", false), register("m2", "fraud", false)]);
    let trained = Trained {
        features: vec!["amount".into(), "hour_of_day".into()],
        artifact: "weights".into(),
        merchant_risk: "{}".into(),
        metadata: "{\"auc\":0.9}".into(),
        dataset_rows: 500,
    };
    let ok = Command::Trained { id: "m1".into(), result: Ok(Box::new(trained)) };
    let m = apply(&mut models, &mut changes, NOW + 1, &ok).unwrap();
    assert_eq!((m.status, m.dataset_rows, m.features.len()), (ModelStatus::Testing, 500, 2));
    assert_eq!(changes.models.last().unwrap().1.as_deref(), Some("weights"));
    let failed = Command::Trained { id: "m2".into(), result: Err("too few labels".into()) };
    let m = apply(&mut models, &mut changes, NOW + 1, &failed).unwrap();
    assert_eq!((m.status, m.error.as_deref()), (ModelStatus::Deprecated, Some("too few labels")));
    // Training ends once.
    let again = apply(&mut models, &mut changes, NOW + 2, &ok);
    assert_eq!(again, Err(Error::State("model `m1` is testing, not training".into())));
}

#[test]
fn deploying_replaces_the_champion_and_a_rollback_restores_it() {
    let (mut models, mut changes) = registry(&[register("m1", "fraud", true), register("m2", "fraud", true)]);
    apply(&mut models, &mut changes, NOW, &Command::Deploy { id: "m1".into() }).unwrap();
    let m2 = apply(&mut models, &mut changes, NOW + 1, &Command::Deploy { id: "m2".into() }).unwrap();
    assert_eq!(m2.previous_id.as_deref(), Some("m1"));
    assert_eq!((status(&models, "m1"), status(&models, "m2")), (ModelStatus::Deprecated, ModelStatus::Deployed));
    // Deploying the champion again changes nothing.
    let before = (models.clone(), changes.models.len());
    apply(&mut models, &mut changes, NOW + 2, &Command::Deploy { id: "m2".into() }).unwrap();
    assert_eq!((models.clone(), changes.models.len()), before);
    let back = apply(&mut models, &mut changes, NOW + 3, &Command::Rollback).unwrap();
    assert_eq!((back.id.as_str(), back.deployed_at_us), ("m1", Some(NOW + 3)));
    assert_eq!(status(&models, "m2"), ModelStatus::Deprecated);
    assert_eq!(event(&Command::Rollback), Some("risk_model.deployed"));
    assert_eq!(event(&Command::Challenger { id: "m1".into(), share_bp: 1 }), None);
}

#[test]
fn refusals_leave_the_registry_as_it_was() {
    let (mut models, mut changes) = registry(&[register("m1", "fraud", false), register("m2", "fraud", true)]);
    let refusals = [
        (Command::Deploy { id: "m1".into() }, Error::State("model `m1` is still training".into())),
        (Command::Deploy { id: "nope".into() }, Error::NotFound("nope".into())),
        (Command::Rollback, Error::State("no model is deployed".into())),
        (
            Command::Challenger { id: "m2".into(), share_bp: SHARE_BP_MAX + 1 },
            Error::State("a share is 0..=10000 basis points".into()),
        ),
        (
            Command::Challenger { id: "m1".into(), share_bp: 100 },
            Error::State("only a trained testing model can be a challenger; `m1` is training".into()),
        ),
    ];
    let before = models.clone();
    for (c, want) in refusals {
        assert_eq!(apply(&mut models, &mut changes, NOW, &c), Err(want), "{c:?}");
        assert_eq!((&models, changes.models.len()), (&before, 0), "{c:?}");
    }
    apply(&mut models, &mut changes, NOW, &Command::Deploy { id: "m2".into() }).unwrap();
    let first = Command::Rollback;
    assert_eq!(
        apply(&mut models, &mut changes, NOW, &first),
        Err(Error::State("model `m2` replaced no earlier model".into()))
    );
}

#[test]
fn one_challenger_at_a_time() {
    let (mut models, mut changes) = registry(&[register("m1", "fraud", true), register("m2", "fraud", true)]);
    apply(&mut models, &mut changes, NOW, &Command::Challenger { id: "m1".into(), share_bp: 500 }).unwrap();
    apply(&mut models, &mut changes, NOW, &Command::Challenger { id: "m2".into(), share_bp: 2500 }).unwrap();
    assert_eq!((models["m1"].challenger_share_bp, models["m2"].challenger_share_bp), (0, 2500));
    let m2 = apply(&mut models, &mut changes, NOW, &Command::Deploy { id: "m2".into() }).unwrap();
    assert_eq!(m2.challenger_share_bp, 0, "a champion is no challenger");
    assert_eq!(Command::Rollback.action(), ("risk_model.rollback", None));
    assert_eq!(ModelStatus::ALL.len(), 4);
}
