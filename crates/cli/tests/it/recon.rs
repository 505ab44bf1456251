//! Reconciliation end to end over HTTP, on SQLite and PostgreSQL: payments and a batch journal
//! on a bank-mirror account, a camt.053 statement built from them with injected differences
//! (a missing line, an extra line, an amount 2 cents off, a batch paid as one line, a
//! duplicate, a bank fee), imported and reconciled: each difference in its state, the 2 cents
//! and the fee booked to the fees account, the drift explained, the ledger verifying; a
//! re-import and a re-run change nothing; a person's unmatch, match and resolve; bad files
//! refused with their line or element and nothing written.
#![allow(clippy::unwrap_used)]

use crate::common::App;
use serde_json::{json, Value};

const IBAN: &str = "DE89370400440532013000";

struct World {
    bank: String,
    fees: String,
    payments: Vec<Value>,
}

async fn world(app: &App) -> World {
    let bank = app.account("USD", true).await;
    let fees = app.account("USD", true).await;
    let (s, u) = app.post("/v1/users", json!({"name": "Ada Customer", "email": "ada@example.com"})).await;
    assert_eq!(s, 201, "{u}");
    let user = u["id"].as_str().unwrap().to_string();
    assert_eq!(app.post(&format!("/v1/users/{user}"), json!({"kyc_status": "verified"})).await.0, 200);
    let (s, a) = app.post("/v1/accounts", json!({"currency": "USD", "user_id": user})).await;
    assert_eq!(s, 201, "{a}");
    let customer = a["id"].as_str().unwrap().to_string();
    let mut payments = Vec::new();
    for amount in [10_000, 2_500, 4_000, 7_000] {
        let body = json!({"user_id": user, "source_account_id": bank, "destination_account_id": customer, "amount": amount,
            "currency": "USD", "type": "deposit", "method": "bank", "description": format!("deposit {amount}")});
        let (s, p) = app.post("/v1/payments", body).await;
        assert_eq!((s, p["status"].as_str()), (201, Some("completed")), "{p}");
        payments.push(p);
    }
    // A card batch booked as one journal entry with a leg per payment.
    let revenue = app.account("USD", true).await;
    let line = |a: &str, d: &str, amount: i64| json!({"account_id": a, "direction": d, "amount": amount});
    let (s, j) = app
        .post("/v1/journal-entries", json!({"description": "card batch 77", "lines": [line(&bank, "debit", 3_000), line(&bank, "debit", 6_000), line(&revenue, "credit", 9_000)]}))
        .await;
    assert_eq!(s, 201, "{j}");
    World { bank, fees, payments }
}

fn today() -> String {
    let d = rialto_recon::Date::from_unix_us(rialto_store::now_us());
    d.to_string()
}

fn entry(amount: i64, ind: &str, e2e: Option<&str>, servicer: &str, extra: &str) -> String {
    let refs = e2e
        .map(|e| format!("<NtryDtls><TxDtls><Refs><EndToEndId>{e}</EndToEndId></Refs></TxDtls></NtryDtls>"))
        .unwrap_or_default();
    format!(
        "<Ntry><Amt Ccy=\"USD\">{}.{:02}</Amt><CdtDbtInd>{ind}</CdtDbtInd><Sts><Cd>BOOK</Cd></Sts><BookgDt><Dt>{}</Dt></BookgDt><ValDt><Dt>{}</Dt></ValDt><AcctSvcrRef>{servicer}</AcctSvcrRef>{extra}{refs}</Ntry>",
        amount / 100, amount % 100, today(), today()
    )
}

/// The day's statement: what the bank saw, with the differences injected.
fn statement(w: &World, id: &str) -> (String, i64) {
    let pid = |i: usize| w.payments[i]["id"].as_str().unwrap().to_string();
    let lines = [
        (10_000, entry(10_000, "CRDT", Some(&pid(0)), "B1", "")),
        (2_498, entry(2_498, "CRDT", Some(&pid(1)), "B2", "")),
        (7_000, entry(7_000, "CRDT", Some(&pid(3)), "B4", "")),
        (7_000, entry(7_000, "CRDT", Some(&pid(3)), "B4", "")),
        (9_000, entry(9_000, "CRDT", None, "B5", "<AddtlNtryInf>CARD SETTLEMENT</AddtlNtryInf>")),
        (1_234, entry(1_234, "CRDT", None, "B6", "<AddtlNtryInf>UNKNOWN SENDER</AddtlNtryInf>")),
        (
            -150,
            entry(
                150,
                "DBIT",
                None,
                "B7",
                "<BkTxCd><Domn><Cd>ACMT</Cd><Fmly><Cd>MDOP</Cd><SubFmlyCd>CHRG</SubFmlyCd></Fmly></Domn></BkTxCd>",
            ),
        ),
    ];
    let closing: i64 = lines.iter().map(|(a, _)| a).sum();
    let body: String = lines.iter().map(|(_, x)| x.as_str()).collect();
    let xml = format!(
        "<?xml version=\"1.0\"?>\n<Document xmlns=\"urn:iso:std:iso:20022:tech:xsd:camt.053.001.08\"><BkToCstmrStmt><GrpHdr><MsgId>M1</MsgId><CreDtTm>{d}T23:00:00Z</CreDtTm></GrpHdr>\n<Stmt><Id>{id}</Id><ElctrncSeqNb>7</ElctrncSeqNb><Acct><Id><IBAN>{IBAN}</IBAN></Id><Ccy>USD</Ccy></Acct>\n<Bal><Tp><CdOrPrtry><Cd>OPBD</Cd></CdOrPrtry></Tp><Amt Ccy=\"USD\">0.00</Amt><CdtDbtInd>CRDT</CdtDbtInd><Dt><Dt>{d}</Dt></Dt></Bal>\n<Bal><Tp><CdOrPrtry><Cd>CLBD</Cd></CdOrPrtry></Tp><Amt Ccy=\"USD\">{}.{:02}</Amt><CdtDbtInd>CRDT</CdtDbtInd><Dt><Dt>{d}</Dt></Dt></Bal>\n{body}\n</Stmt></BkToCstmrStmt></Document>\n",
        closing / 100,
        closing % 100,
        d = today()
    );
    (xml, closing)
}

async fn configure(app: &App, w: &World) {
    let (s, v) = app
        .post(&format!("/v1/reconciliation/accounts/{}", w.bank), json!({"bank_account": IBAN, "fees_account_id": w.fees, "write_off_max": 5,
            "csv_mapping": {"date": "Date", "date_format": "YYYY-MM-DD", "amount": "Amount", "currency": "USD", "reference": "Ref"}}))
        .await;
    assert_eq!(s, 200, "{v}");
    assert_eq!((v["normal_balance"].as_str(), v["currency"].as_str()), (Some("debit"), Some("USD")));
}

fn count(run: &Value, key: &str) -> i64 {
    run["counts"][key]["count"].as_i64().unwrap_or(0)
}

both!(a_statement_with_every_kind_of_difference_reconciles, |app: App| async move {
    let w = world(&app).await;
    configure(&app, &w).await;
    let (xml, closing) = statement(&w, "STMT-1");
    let path = format!("/v1/reconciliation/accounts/{}/statements", w.bank);
    let (s, imported) = app.post(&path, json!({"file_name": "day.xml", "content": xml})).await;
    assert_eq!(s, 200, "{imported}");
    let st = &imported["data"][0];
    assert_eq!((st["lines"].as_i64(), st["adds_up"].as_bool()), (Some(7), Some(true)), "{st}");
    assert_eq!(st["closing"], json!({"amount": closing, "currency": "USD", "date": today()}));
    assert_eq!(st["already_imported"], json!(false));
    let (s, run) = app.post(&format!("/v1/reconciliation/accounts/{}/runs", w.bank), json!({})).await;
    assert_eq!(s, 201, "{run}");
    assert_eq!(count(&run, "lines_matched"), 3, "p1 and p4 by reference, the batch line as a group: {run}");
    assert_eq!(count(&run, "entries_matched"), 4, "{run}");
    assert_eq!(count(&run, "lines_resolved_amount_mismatch"), 1, "the 2 cents written off: {run}");
    assert_eq!(count(&run, "lines_resolved_bank_fee"), 1, "{run}");
    assert_eq!(count(&run, "lines_duplicate"), 1, "{run}");
    assert_eq!(count(&run, "lines_unmatched"), 1, "the extra line: {run}");
    assert_eq!(
        (count(&run, "entries_unmatched"), run["counts"]["entries_unmatched"]["amount"].as_i64()),
        (1, Some(4_000)),
        "the missing line's payment: {run}"
    );
    assert_eq!(run["statement_balance"].as_i64(), Some(closing));
    assert_eq!(run["ledger_balance"].as_i64(), Some(32_500));
    assert_eq!(run["adjustments"].as_i64(), Some(-152));
    assert_eq!(
        run["drift"].as_i64(),
        Some(1_234 + 7_000 - 4_000),
        "the extra line, the duplicate, the missing line: {run}"
    );
    // The fees account got the write-off and the fee; the ledger verifies.
    assert_eq!(app.balance(&w.fees).await["posted"].as_i64(), Some(-152));
    app.verify_ok().await;
    let (_, ex) = app.get(&format!("/v1/reconciliation/accounts/{}/exceptions", w.bank)).await;
    let outcomes: Vec<&str> = ex["data"].as_array().unwrap().iter().map(|m| m["outcome"].as_str().unwrap()).collect();
    assert_eq!(outcomes, vec!["duplicate"], "{ex}");
    assert_eq!(ex["unmatched_lines"].as_array().unwrap().len(), 1);
    let run_id = run["id"].as_str().unwrap();
    let (_, got) = app.get(&format!("/v1/reconciliation/runs/{run_id}")).await;
    assert_eq!(got["drift"], run["drift"]);
    // Re-import and re-run: nothing changes.
    let (s, again) = app.post(&path, json!({"file_name": "day.xml", "content": xml})).await;
    assert_eq!((s, again["data"][0]["already_imported"].as_bool()), (200, Some(true)), "{again}");
    assert_eq!(again["data"][0]["id"], st["id"]);
    let (_, rerun) = app.post(&format!("/v1/reconciliation/accounts/{}/runs", w.bank), json!({})).await;
    assert_eq!(
        count(&rerun, "lines_matched") + count(&rerun, "lines_duplicate"),
        0,
        "matched items stay matched: {rerun}"
    );
    assert_eq!((count(&rerun, "lines_unmatched"), count(&rerun, "entries_unmatched")), (1, 1), "{rerun}");
    assert_eq!(rerun["drift"], run["drift"], "{rerun}");
    // Export: every line of the statement appears with its state.
    let r = app
        .http
        .get(format!("{}/v1/reconciliation/runs/{run_id}/export.csv", app.base))
        .bearer_auth(&app.key)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let csv = r.text().await.unwrap();
    assert_eq!(csv.lines().filter(|l| l.starts_with("line,")).count(), 7, "{csv}");
    assert!(csv.lines().any(|l| l.starts_with("line,unmatched_external,")), "{csv}");
    let (_, js) = app.get(&format!("/v1/reconciliation/runs/{run_id}/details")).await;
    assert_eq!(js["rows"].as_array().unwrap().iter().filter(|r| r["kind"] == "entry").count(), 5, "{js}");
    // A person resolves the duplicate and the extra line, unmatches and re-matches p1.
    let dup = ex["data"][0]["id"].as_str().unwrap();
    let res = format!("/v1/reconciliation/accounts/{}/resolutions", w.bank);
    let (s, v) = app.post(&res, json!({"match_id": dup, "note": "bank sent the line twice"})).await;
    assert_eq!((s, v["status"].as_str()), (200, Some("resolved")), "{v}");
    let (s, v) = app.post(&res, json!({"match_id": dup, "note": "again"})).await;
    assert_eq!((s, v["error"]["code"].as_str()), (409, Some("reconciliation_state")), "{v}");
    let extra = ex["unmatched_lines"][0]["id"].as_str().unwrap();
    let (s, v) = app.post(&res, json!({"line_id": extra, "book": true, "note": "interest credited, booked"})).await;
    assert_eq!((s, v["resolution"].as_str(), v["adjustment"].as_i64()), (200, Some("booked"), Some(1_234)), "{v}");
    let (_, matches) = app.get(&format!("/v1/reconciliation/runs/{run_id}/details")).await;
    let p1 =
        matches["rows"].as_array().unwrap().iter().find(|r| r["rule"] == "reference" && r["kind"] == "line").unwrap()
            ["match_id"]
            .as_str()
            .unwrap()
            .to_string();
    let (s, v) = app.post(&format!("/v1/reconciliation/matches/{p1}/unmatch"), json!({"note": "checking"})).await;
    assert_eq!((s, v["status"].as_str()), (200, Some("undone")), "{v}");
    let line_id = v["line_ids"][0].as_str().unwrap().to_string();
    let seq = v["entry_seqs"][0].as_i64().unwrap();
    let (s, v) = app
        .post(
            &format!("/v1/reconciliation/accounts/{}/matches", w.bank),
            json!({"line_ids": [line_id], "entry_seqs": [seq], "note": "confirmed"}),
        )
        .await;
    assert_eq!((s, v["status"].as_str(), v["rule"].as_str()), (201, Some("matched"), Some("manual")), "{v}");
    let (s, v) = app
        .post(
            &format!("/v1/reconciliation/accounts/{}/matches", w.bank),
            json!({"line_ids": [line_id], "entry_seqs": [seq], "note": "twice"}),
        )
        .await;
    assert_eq!((s, v["error"]["code"].as_str()), (409, Some("reconciliation_state")), "{v}");
    let (_, last) = app.post(&format!("/v1/reconciliation/accounts/{}/runs", w.bank), json!({})).await;
    assert_eq!(last["drift"].as_i64(), Some(7_000 - 4_000), "the booked extra line left the drift: {last}");
    app.verify_ok().await;
    let audits = app.audit_at_least("action=reconciliation.resolve", 2).await;
    assert!(audits.iter().any(|a| a["details"].to_string().contains("bank sent the line twice")), "{audits:?}");
    let (_, events) = app.get("/v1/events?type=reconciliation_run.breaks_found").await;
    assert!(!events["data"].as_array().unwrap().is_empty(), "{events}");
});

both!(bad_files_are_refused_and_write_nothing, |app: App| async move {
    let w = world(&app).await;
    configure(&app, &w).await;
    let (xml, _) = statement(&w, "STMT-2");
    let path = format!("/v1/reconciliation/accounts/{}/statements", w.bank);
    let cut = &xml[..xml.find("</Amt>").unwrap() + 6];
    let wrong_ns = xml.replace("camt.053.001.08", "pain.001.001.09");
    let mt940_bad = ":20:X\n:25:DE89370400440532013000\n:28C:1/1\n:60F:C2612USD0,00\n:62F:C261201USD0,00\n-\n";
    let other_bank = xml.replace(IBAN, "GB33BUKB20201555555555");
    let cases: Vec<(Value, u16, &str, &str)> = vec![
        (json!({"file_name": "cut.xml", "content": cut}), 400, "statement_unreadable", "truncated"),
        (json!({"file_name": "ns.xml", "content": wrong_ns}), 400, "statement_unreadable", "pain.001.001.09"),
        (json!({"file_name": "b.sta", "content": mt940_bad}), 400, "statement_unreadable", "line 4"),
        (
            json!({"file_name": "c.csv", "content": "Date,Amount,Ref\n2026-12-01,abc,R1\n", "format": "csv"}),
            400,
            "statement_unreadable",
            "line 2",
        ),
        (
            json!({"file_name": "c.csv", "content": "When,Amount\n2026-12-01,1.00\n", "format": "csv"}),
            400,
            "statement_unreadable",
            "no column `Date`",
        ),
        (json!({"file_name": "o.xml", "content": other_bank}), 422, "statement_invalid", "GB33BUKB20201555555555"),
        (json!({"file_name": "x", "content": "hello"}), 400, "statement_unreadable", "neither"),
        (json!({"file_name": "x", "content": xml, "format": "pdf"}), 400, "invalid_request", "format"),
        (json!({"content": xml}), 400, "invalid_request", "file_name"),
    ];
    for (body, status, code, says) in cases {
        let (s, v) = app.post(&path, body.clone()).await;
        assert_eq!((s, v["error"]["code"].as_str()), (status, Some(code)), "{body}: {v}");
        assert!(v["error"]["message"].as_str().unwrap().contains(says), "{says}: {v}");
    }
    let (_, list) = app.get(&path).await;
    assert_eq!(list["data"].as_array().unwrap().len(), 0, "nothing written: {list}");
    // Settings: unknown accounts, bad rules and mappings.
    let set = format!("/v1/reconciliation/accounts/{}", w.bank);
    for body in [
        json!({"bank_account": IBAN, "rules": [{"kind": "nearest"}]}),
        json!({"bank_account": IBAN, "rules": [{"kind": "amount_date", "window_days": 90}]}),
        json!({"bank_account": IBAN, "csv_mapping": {"date": "D"}}),
        json!({"bank_account": IBAN, "write_off_max": -1}),
        json!({"bank_account": ""}),
        json!({"bank_account": IBAN, "normal_balance": "sideways"}),
    ] {
        let (s, v) = app.post(&set, body.clone()).await;
        assert_eq!(s, 400, "{body}: {v}");
    }
    let (s, v) =
        app.post(&set, json!({"bank_account": IBAN, "fees_account_id": "acct_0190f0a0b0c07d8e9fa0b1c2d3e4f5ff"})).await;
    assert_eq!(s, 404, "{v}");
    let (s, v) = app.post("/v1/reconciliation/accounts/acct_0190f0a0b0c07d8e9fa0b1c2d3e4f5ff/runs", json!({})).await;
    assert_eq!(s, 404, "{v}");
    // A CSV statement through the saved mapping, then a conflicting statement with the same identity.
    let csv = format!("Date,Amount,Ref\n{d},100.00,pay_x\n{d},-1.50,FEE\n", d = today());
    let (s, v) = app.post(&path, json!({"file_name": "s.csv", "content": csv, "format": "csv"})).await;
    assert_eq!(
        (s, v["data"][0]["lines"].as_i64(), v["data"][0]["adds_up"].clone()),
        (200, Some(2), Value::Null),
        "{v}"
    );
    let changed = xml.replace("<AcctSvcrRef>B6</AcctSvcrRef>", "<AcctSvcrRef>B6X</AcctSvcrRef>");
    assert_eq!(app.post(&path, json!({"file_name": "a.xml", "content": xml})).await.0, 200);
    let (s, v) = app.post(&path, json!({"file_name": "b.xml", "content": changed})).await;
    assert_eq!((s, v["error"]["code"].as_str()), (409, Some("statement_conflict")), "{v}");
    let (_, list) = app.get(&path).await;
    assert_eq!(list["data"].as_array().unwrap().len(), 2, "{list}");
});
