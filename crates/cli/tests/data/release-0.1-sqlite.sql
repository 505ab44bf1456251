PRAGMA foreign_keys=OFF;
BEGIN TRANSACTION;
CREATE TABLE _sqlx_migrations (
    version BIGINT PRIMARY KEY,
    description TEXT NOT NULL,
    installed_on TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP,
    success BOOLEAN NOT NULL,
    checksum BLOB NOT NULL,
    execution_time BIGINT NOT NULL
);
INSERT INTO _sqlx_migrations VALUES(1,'ledger','2026-12-02 01:06:18',1,X'df555807a7ae08007390342e9a5164adc2aca08898737b3f947cdbeb2e1e22fdf5b9da41f469cb04c1dc9f82f3c2549e',2165478);
INSERT INTO _sqlx_migrations VALUES(2,'events audit','2026-12-02 01:06:18',1,X'288c2cf8e48e96e23a2d3b5778f9cbcdcda6636d06cc88a1b6eec28ec14bc9c3dfa7e36f4e4715460c2f78f43330127f',1629318);
INSERT INTO _sqlx_migrations VALUES(3,'payments','2026-12-02 01:06:18',1,X'db45b82e24f45966a9bcb1f9f73cc5164e23f34638ca4753027d3847d894a11458a22931ee3750d9f0cc34eff1dd08d4',1948354);
INSERT INTO _sqlx_migrations VALUES(4,'settlement','2026-12-02 01:06:18',1,X'b28200afa1137d85f36f56955d36290347fbbc907240b30aabde607f3b6fd4afe77ba76a66513de26c4ab0344ed8bf25',1263813);
INSERT INTO _sqlx_migrations VALUES(5,'tasks','2026-12-02 01:06:18',1,X'96ba41c5f4244945fcdc736e783110a70d9c2f8598557856eaeaba184bb3bff3d2a8fa5cae10db079693fe63189df624',916777);
INSERT INTO _sqlx_migrations VALUES(6,'webhooks','2026-12-02 01:06:18',1,X'f2582f1b78f46cb27d651a1991f363d7813ab182afeddef020ff32e31963fb4e39a3e285a6a546c386f4858bcbd35102',5051441);
INSERT INTO _sqlx_migrations VALUES(7,'risk rules','2026-12-02 01:06:18',1,X'5599351c98dc449c7311287053c2b474eaae3df5d9ad9425f103e4b0e27251e07ee7a0138a5fb41cbc757d8354dd993a',1122664);
INSERT INTO _sqlx_migrations VALUES(8,'risk assessments','2026-12-02 01:06:18',1,X'98405c45a34bcee7e62b31eafa4bdfb99804d957a06d358796076c19ca78fd3238580cfe4b7decdb5337a5f66ba4a95f',3556721);
INSERT INTO _sqlx_migrations VALUES(9,'risk lists','2026-12-02 01:06:18',1,X'ee2ac0b6b1ba4477ed7292b1e206b43d1903bbb51316b17a9a796df59c3be0eb6c1ed88c1ff64298ae1e00462d44fe26',794875);
INSERT INTO _sqlx_migrations VALUES(10,'labels limits','2026-12-02 01:06:18',1,X'123859be71d3a5e0eeb0ef25e3e070310d17db3c64241d56c71a99af5047140ff044d617dbfcb1de2e18634ed1cd901a',1437693);
INSERT INTO _sqlx_migrations VALUES(11,'assessment details','2026-12-02 01:06:18',1,X'2f6887e587ff33e723b15e87703a170b42bf6c40797b3efdf1e8692009176ee16985e9fcb6e5e7f02f6c247b88efdf53',1202783);
INSERT INTO _sqlx_migrations VALUES(12,'risk models','2026-12-02 01:06:18',1,X'f0472d7de5cdfc42987bb4ee122ec9c65d642cf4581be9b3fb132b5552e6be9de473d4464d43141d2480221d7d3c64f5',1464243);
INSERT INTO _sqlx_migrations VALUES(13,'credit scores','2026-12-02 01:06:18',1,X'e08b6a69573c77e8ec43231dd3ef11a898de0c600fc2122322f911ab24f2d42e13b6b93b54930c77663be220882ba1c2',953431);
CREATE TABLE users (
    id          TEXT PRIMARY KEY,
    name        TEXT NOT NULL,
    email       TEXT,
    phone       TEXT,
    role        TEXT NOT NULL,
    status      TEXT NOT NULL,
    kyc_status  TEXT NOT NULL,
    created_at  BIGINT NOT NULL,
    updated_at  BIGINT NOT NULL
);
INSERT INTO users VALUES('user_01a23449f10c74b3bb1db600cab14f21','Alice','alice@example.com',NULL,'customer','active','pending',1796173590797690,1796173590797690);
CREATE TABLE accounts (
    id                      TEXT PRIMARY KEY,
    user_id                 TEXT REFERENCES users(id),
    name                    TEXT,
    currency                TEXT NOT NULL,
    allow_negative_balance  BIGINT NOT NULL,
    status                  TEXT NOT NULL,
    debits_posted           BIGINT NOT NULL CHECK (debits_posted >= 0),
    credits_posted          BIGINT NOT NULL CHECK (credits_posted >= 0),
    debits_pending          BIGINT NOT NULL CHECK (debits_pending >= 0),
    credits_pending         BIGINT NOT NULL CHECK (credits_pending >= 0),
    metadata                TEXT NOT NULL,
    created_at              BIGINT NOT NULL,
    updated_at              BIGINT NOT NULL,
    CHECK (allow_negative_balance = 1 OR credits_posted - debits_posted - debits_pending >= 0)
) WITHOUT ROWID;
INSERT INTO accounts VALUES('acct_01a23449f13473cc9f103798ded5cd1f',NULL,'funding','USD',1,'active',501200,0,0,0,'{}',1796173590836348,1796173591066085);
INSERT INTO accounts VALUES('acct_01a23449f153704bbfe6e317b522fbcb','user_01a23449f10c74b3bb1db600cab14f21','alice','USD',0,'active',1000,501300,25000,0,'{}',1796173590869688,1796173591222319);
INSERT INTO accounts VALUES('acct_01a23449f1737669be4a1c0f9ab94adb',NULL,'shop','USD',0,'active',1000,1300,0,25000,'{}',1796173590899799,1796173591257620);
INSERT INTO accounts VALUES('acct_01a23449f18c711e8b7e448515b05efc',NULL,NULL,'EUR',1,'active',0,0,0,0,'{}',1796173590924941,1796173590924941);
INSERT INTO accounts VALUES('acct_01a23449f2da77438015a5498ca3d86c',NULL,'fees USD','USD',0,'active',0,48,0,0,'{"system":"fees"}',1796173591257620,1796173591257620);
INSERT INTO accounts VALUES('acct_01a23449f2da77438015a54acf175268',NULL,'settlement USD','USD',0,'active',0,552,0,0,'{"system":"settlement"}',1796173591257620,1796173591257620);
CREATE TABLE transfers (
    id                      TEXT PRIMARY KEY,
    source_account_id       TEXT NOT NULL REFERENCES accounts(id),
    destination_account_id  TEXT NOT NULL REFERENCES accounts(id),
    currency                TEXT NOT NULL,
    amount                  BIGINT NOT NULL CHECK (amount > 0),
    posted_amount           BIGINT NOT NULL,
    status                  TEXT NOT NULL,
    pending                 BIGINT NOT NULL,
    description             TEXT,
    reference               TEXT,
    metadata                TEXT NOT NULL,
    expires_at              BIGINT,
    reversal_of             TEXT,
    reversed_by             TEXT,
    created_at              BIGINT NOT NULL,
    updated_at              BIGINT NOT NULL
);
INSERT INTO transfers VALUES('tr_01a23449f1aa704eb773c3c9fb75ee87','acct_01a23449f13473cc9f103798ded5cd1f','acct_01a23449f153704bbfe6e317b522fbcb','USD',500000,500000,'posted',0,NULL,NULL,'{}',NULL,NULL,NULL,1796173590954440,1796173590954440);
INSERT INTO transfers VALUES('tr_01a23449f1bc748d9e3fb313dc87e7c7','acct_01a23449f13473cc9f103798ded5cd1f','acct_01a23449f153704bbfe6e317b522fbcb','USD',700,0,'voided',1,NULL,NULL,'{}',1796177190972962,NULL,NULL,1796173590973249,1796173590998709);
INSERT INTO transfers VALUES('tr_01a23449f1e87493a35679f15ee8d035','acct_01a23449f13473cc9f103798ded5cd1f','acct_01a23449f153704bbfe6e317b522fbcb','USD',900,900,'posted',1,NULL,NULL,'{}',1796177191016513,NULL,NULL,1796173591016906,1796173591050750);
INSERT INTO transfers VALUES('tr_01a23449f262706185df0acb5cc613be','acct_01a23449f153704bbfe6e317b522fbcb','acct_01a23449f1737669be4a1c0f9ab94adb','USD',1000,1000,'posted',0,'payment pay_01a23449f262706185df0acaefa7fc38',NULL,'{}',NULL,NULL,NULL,1796173591139915,1796173591139915);
INSERT INTO transfers VALUES('tr_01a23449f27d75b9a462abda6498ba86','acct_01a23449f153704bbfe6e317b522fbcb','acct_01a23449f1737669be4a1c0f9ab94adb','USD',25000,0,'pending',1,'payment pay_01a23449f27d75b9a462abd9eb23937e',NULL,'{}',NULL,NULL,NULL,1796173591166619,1796173591166619);
INSERT INTO transfers VALUES('tr_01a23449f2b5770abda5ae231d230a3e','acct_01a23449f1737669be4a1c0f9ab94adb','acct_01a23449f153704bbfe6e317b522fbcb','USD',400,400,'posted',0,'refund re_01a23449f2b5770abda5ae22232e087b of payment pay_01a23449f262706185df0acaefa7fc38',NULL,'{}',NULL,NULL,NULL,1796173591222319,1796173591222319);
CREATE TABLE journal_entries (
    id           TEXT PRIMARY KEY,
    description  TEXT,
    metadata     TEXT NOT NULL,
    created_at   BIGINT NOT NULL
);
INSERT INTO journal_entries VALUES('je_01a23449f21974a8a43c53d4af5aae73','fixture','{}',1796173591066085);
INSERT INTO journal_entries VALUES('je_01a23449f2da77438015a54b6dec68c2','settlement stl_01a23449f2da77438015a548895045f5','{"settlement_id":"stl_01a23449f2da77438015a548895045f5"}',1796173591257620);
CREATE TABLE entries (
    seq               INTEGER PRIMARY KEY AUTOINCREMENT,
    account_id        TEXT NOT NULL REFERENCES accounts(id),
    transfer_id       TEXT REFERENCES transfers(id),
    journal_entry_id  TEXT REFERENCES journal_entries(id),
    direction         TEXT NOT NULL CHECK (direction IN ('debit', 'credit')),
    amount            BIGINT NOT NULL CHECK (amount > 0),
    currency          TEXT NOT NULL,
    balance_after     BIGINT NOT NULL,
    created_at        BIGINT NOT NULL
);
INSERT INTO entries VALUES(1,'acct_01a23449f13473cc9f103798ded5cd1f','tr_01a23449f1aa704eb773c3c9fb75ee87',NULL,'debit',500000,'USD',-500000,1796173590954440);
INSERT INTO entries VALUES(2,'acct_01a23449f153704bbfe6e317b522fbcb','tr_01a23449f1aa704eb773c3c9fb75ee87',NULL,'credit',500000,'USD',500000,1796173590954440);
INSERT INTO entries VALUES(3,'acct_01a23449f13473cc9f103798ded5cd1f','tr_01a23449f1e87493a35679f15ee8d035',NULL,'debit',900,'USD',-500900,1796173591050750);
INSERT INTO entries VALUES(4,'acct_01a23449f153704bbfe6e317b522fbcb','tr_01a23449f1e87493a35679f15ee8d035',NULL,'credit',900,'USD',500900,1796173591050750);
INSERT INTO entries VALUES(5,'acct_01a23449f13473cc9f103798ded5cd1f',NULL,'je_01a23449f21974a8a43c53d4af5aae73','debit',300,'USD',-501200,1796173591066085);
INSERT INTO entries VALUES(6,'acct_01a23449f1737669be4a1c0f9ab94adb',NULL,'je_01a23449f21974a8a43c53d4af5aae73','credit',300,'USD',300,1796173591066085);
INSERT INTO entries VALUES(7,'acct_01a23449f153704bbfe6e317b522fbcb','tr_01a23449f262706185df0acb5cc613be',NULL,'debit',1000,'USD',499900,1796173591139915);
INSERT INTO entries VALUES(8,'acct_01a23449f1737669be4a1c0f9ab94adb','tr_01a23449f262706185df0acb5cc613be',NULL,'credit',1000,'USD',1300,1796173591139915);
INSERT INTO entries VALUES(9,'acct_01a23449f1737669be4a1c0f9ab94adb','tr_01a23449f2b5770abda5ae231d230a3e',NULL,'debit',400,'USD',900,1796173591222319);
INSERT INTO entries VALUES(10,'acct_01a23449f153704bbfe6e317b522fbcb','tr_01a23449f2b5770abda5ae231d230a3e',NULL,'credit',400,'USD',500300,1796173591222319);
INSERT INTO entries VALUES(11,'acct_01a23449f1737669be4a1c0f9ab94adb',NULL,'je_01a23449f2da77438015a54b6dec68c2','debit',600,'USD',300,1796173591257620);
INSERT INTO entries VALUES(12,'acct_01a23449f2da77438015a5498ca3d86c',NULL,'je_01a23449f2da77438015a54b6dec68c2','credit',48,'USD',48,1796173591257620);
INSERT INTO entries VALUES(13,'acct_01a23449f2da77438015a54acf175268',NULL,'je_01a23449f2da77438015a54b6dec68c2','credit',552,'USD',552,1796173591257620);
CREATE TABLE idempotency_keys (
    id            TEXT PRIMARY KEY,
    request_hash  TEXT NOT NULL,
    status_code   BIGINT NOT NULL,
    body          TEXT NOT NULL,
    created_at    BIGINT NOT NULL,
    expires_at    BIGINT NOT NULL
);
CREATE TABLE api_keys (
    id          TEXT PRIMARY KEY,
    name        TEXT NOT NULL,
    role        TEXT NOT NULL,
    key_hash    TEXT NOT NULL UNIQUE,
    prefix      TEXT NOT NULL,
    created_at  BIGINT NOT NULL,
    revoked_at  BIGINT
);
INSERT INTO api_keys VALUES('key_01a23449c29175f184b0d300a618da54','RIALTO_ADMIN_KEY','admin','72f6a938966bb07939a5028d65757dc1143f21dbfde99574616b7d43a7f7d07c','rialto_fixtu',1796173578897533,NULL);
INSERT INTO api_keys VALUES('key_01a23449f2ea737480656cf105918df8','reader','reader','657973340f47b9da08b7fda055800f306d8b874ad820166c1b1e67d00f627cf1','rialto_90260',1796173591274367,NULL);
CREATE TABLE ledger_heads (
    id          BIGINT PRIMARY KEY,
    event_seq   BIGINT NOT NULL,
    audit_seq   BIGINT NOT NULL,
    audit_hash  TEXT NOT NULL
);
INSERT INTO ledger_heads VALUES(1,20,22,'56a369ec0b50c086e23ab662eaafbde78c9b9b03596841a8f5e59a4d72b0c0d3');
CREATE TABLE events (
    seq            BIGINT PRIMARY KEY,
    id             TEXT NOT NULL,
    type           TEXT NOT NULL,
    resource_type  TEXT NOT NULL,
    resource_id    TEXT NOT NULL,
    data           TEXT NOT NULL,
    request_id     TEXT,
    created_at     BIGINT NOT NULL
);
INSERT INTO events VALUES(1,'evt_01a23449f10e77f7b0be35ad8fbcae64','user.created','user','user_01a23449f10c74b3bb1db600cab14f21','{"created_at":"2026-12-02T01:06:30.79769Z","email":"alice@example.com","id":"user_01a23449f10c74b3bb1db600cab14f21","kyc_status":"pending","name":"Alice","object":"user","phone":null,"role":"customer","status":"active","updated_at":"2026-12-02T01:06:30.79769Z"}','req_cf445d8bde5446ceb81ad3f99e4f2b73',1796173590797690);
INSERT INTO events VALUES(2,'evt_01a23449f135751991cf579336f90740','account.created','account','acct_01a23449f13473cc9f103798ded5cd1f','{"allow_negative_balance":true,"balance":{"available":0,"pending_credits":0,"pending_debits":0,"posted":0},"created_at":"2026-12-02T01:06:30.836348Z","currency":"USD","id":"acct_01a23449f13473cc9f103798ded5cd1f","metadata":{},"name":"funding","object":"account","status":"active","totals":{"credits_posted":0,"debits_posted":0},"updated_at":"2026-12-02T01:06:30.836348Z","user_id":null}','req_aa26b3665cde471d8aa4d9b95b5ebebc',1796173590836348);
INSERT INTO events VALUES(3,'evt_01a23449f15976bf998ab32e3e8a70ce','account.created','account','acct_01a23449f153704bbfe6e317b522fbcb','{"allow_negative_balance":false,"balance":{"available":0,"pending_credits":0,"pending_debits":0,"posted":0},"created_at":"2026-12-02T01:06:30.869688Z","currency":"USD","id":"acct_01a23449f153704bbfe6e317b522fbcb","metadata":{},"name":"alice","object":"account","status":"active","totals":{"credits_posted":0,"debits_posted":0},"updated_at":"2026-12-02T01:06:30.869688Z","user_id":"user_01a23449f10c74b3bb1db600cab14f21"}','req_7c6e5a427b974bcfa103dcc2e2d4c15c',1796173590869688);
INSERT INTO events VALUES(4,'evt_01a23449f17475c8944615834f49796c','account.created','account','acct_01a23449f1737669be4a1c0f9ab94adb','{"allow_negative_balance":false,"balance":{"available":0,"pending_credits":0,"pending_debits":0,"posted":0},"created_at":"2026-12-02T01:06:30.899799Z","currency":"USD","id":"acct_01a23449f1737669be4a1c0f9ab94adb","metadata":{},"name":"shop","object":"account","status":"active","totals":{"credits_posted":0,"debits_posted":0},"updated_at":"2026-12-02T01:06:30.899799Z","user_id":null}','req_459cb3c44f324513a13d619769b8a994',1796173590899799);
INSERT INTO events VALUES(5,'evt_01a23449f18d76c0a13be9a9fa0043c6','account.created','account','acct_01a23449f18c711e8b7e448515b05efc','{"allow_negative_balance":true,"balance":{"available":0,"pending_credits":0,"pending_debits":0,"posted":0},"created_at":"2026-12-02T01:06:30.924941Z","currency":"EUR","id":"acct_01a23449f18c711e8b7e448515b05efc","metadata":{},"name":null,"object":"account","status":"active","totals":{"credits_posted":0,"debits_posted":0},"updated_at":"2026-12-02T01:06:30.924941Z","user_id":null}','req_af9a08f8f0574956a6e85aa49b7783c5',1796173590924941);
INSERT INTO events VALUES(6,'evt_01a23449f1ab71e2b31814ee87e2a7a2','transfer.posted','transfer','tr_01a23449f1aa704eb773c3c9fb75ee87','{"amount":500000,"created_at":"2026-12-02T01:06:30.95444Z","currency":"USD","description":null,"destination_account_id":"acct_01a23449f153704bbfe6e317b522fbcb","expires_at":null,"id":"tr_01a23449f1aa704eb773c3c9fb75ee87","metadata":{},"object":"transfer","pending":false,"posted_amount":500000,"reference":null,"reversal_of":null,"reversed_by":null,"source_account_id":"acct_01a23449f13473cc9f103798ded5cd1f","status":"posted","updated_at":"2026-12-02T01:06:30.95444Z"}','req_43bfdea5e63948ee81fe77406c3f7dc4',1796173590954440);
INSERT INTO events VALUES(7,'evt_01a23449f1c1776ca88ca1f05884c37e','transfer.pending','transfer','tr_01a23449f1bc748d9e3fb313dc87e7c7','{"amount":700,"created_at":"2026-12-02T01:06:30.973249Z","currency":"USD","description":null,"destination_account_id":"acct_01a23449f153704bbfe6e317b522fbcb","expires_at":"2026-12-02T02:06:30.972962Z","id":"tr_01a23449f1bc748d9e3fb313dc87e7c7","metadata":{},"object":"transfer","pending":true,"posted_amount":0,"reference":null,"reversal_of":null,"reversed_by":null,"source_account_id":"acct_01a23449f13473cc9f103798ded5cd1f","status":"pending","updated_at":"2026-12-02T01:06:30.973249Z"}','req_5384a3f24ed44a74a82757647b5d959a',1796173590973249);
INSERT INTO events VALUES(8,'evt_01a23449f1d87555ae8543f850d78da8','transfer.voided','transfer','tr_01a23449f1bc748d9e3fb313dc87e7c7','{"amount":700,"created_at":"2026-12-02T01:06:30.973249Z","currency":"USD","description":null,"destination_account_id":"acct_01a23449f153704bbfe6e317b522fbcb","expires_at":"2026-12-02T02:06:30.972962Z","id":"tr_01a23449f1bc748d9e3fb313dc87e7c7","metadata":{},"object":"transfer","pending":true,"posted_amount":0,"reference":null,"reversal_of":null,"reversed_by":null,"source_account_id":"acct_01a23449f13473cc9f103798ded5cd1f","status":"voided","updated_at":"2026-12-02T01:06:30.998709Z"}','req_5d965aebbac94bdfbef70cf7949703ed',1796173590998709);
INSERT INTO events VALUES(9,'evt_01a23449f1e9753385df43d4f5da6d1b','transfer.pending','transfer','tr_01a23449f1e87493a35679f15ee8d035','{"amount":900,"created_at":"2026-12-02T01:06:31.016906Z","currency":"USD","description":null,"destination_account_id":"acct_01a23449f153704bbfe6e317b522fbcb","expires_at":"2026-12-02T02:06:31.016513Z","id":"tr_01a23449f1e87493a35679f15ee8d035","metadata":{},"object":"transfer","pending":true,"posted_amount":0,"reference":null,"reversal_of":null,"reversed_by":null,"source_account_id":"acct_01a23449f13473cc9f103798ded5cd1f","status":"pending","updated_at":"2026-12-02T01:06:31.016906Z"}','req_bfcfbba3b8714a39839824dd23babc11',1796173591016906);
INSERT INTO events VALUES(10,'evt_01a23449f20c767ab439ba381dbe1c98','transfer.posted','transfer','tr_01a23449f1e87493a35679f15ee8d035','{"amount":900,"created_at":"2026-12-02T01:06:31.016906Z","currency":"USD","description":null,"destination_account_id":"acct_01a23449f153704bbfe6e317b522fbcb","expires_at":"2026-12-02T02:06:31.016513Z","id":"tr_01a23449f1e87493a35679f15ee8d035","metadata":{},"object":"transfer","pending":true,"posted_amount":900,"reference":null,"reversal_of":null,"reversed_by":null,"source_account_id":"acct_01a23449f13473cc9f103798ded5cd1f","status":"posted","updated_at":"2026-12-02T01:06:31.05075Z"}','req_1179100c785d4a1b84201b007586a3cd',1796173591050750);
INSERT INTO events VALUES(11,'evt_01a23449f21b736b8e9f5e37c8234cbf','journal_entry.posted','journal_entry','je_01a23449f21974a8a43c53d4af5aae73','{"created_at":"2026-12-02T01:06:31.066085Z","description":"fixture","id":"je_01a23449f21974a8a43c53d4af5aae73","lines":[{"account_id":"acct_01a23449f13473cc9f103798ded5cd1f","amount":300,"balance_after":-501200,"currency":"USD","direction":"debit"},{"account_id":"acct_01a23449f1737669be4a1c0f9ab94adb","amount":300,"balance_after":300,"currency":"USD","direction":"credit"}],"metadata":{},"object":"journal_entry"}','req_dafdefa91f6447f3a316e17e815f6cd8',1796173591066085);
INSERT INTO events VALUES(12,'evt_01a23449f26c7310b99c5af4d713fafa','payment.completed','payment','pay_01a23449f262706185df0acaefa7fc38','{"amount":1000,"amount_refunded":0,"context":{"device_id":"dev-1","ip_address":"203.0.113.9","location":{"country":"DE","lat":52.5,"lon":13.4}},"created_at":"2026-12-02T01:06:31.139915Z","currency":"USD","description":null,"destination_account_id":"acct_01a23449f1737669be4a1c0f9ab94adb","failure_code":null,"failure_reason":null,"history":[{"at":"2026-12-02T01:06:31.139915Z","from":null,"reason":"created","to":"pending"},{"at":"2026-12-02T01:06:31.139915Z","from":"pending","reason":"gates","to":"processing"},{"at":"2026-12-02T01:06:31.139915Z","from":"processing","reason":"all gates passed","to":"completed"}],"id":"pay_01a23449f262706185df0acaefa7fc38","metadata":{},"method":"card","object":"payment","reference":null,"refunds":[],"risk_assessment_id":"ra_01a23449f267751ab00265998d5ededd","source_account_id":"acct_01a23449f153704bbfe6e317b522fbcb","status":"completed","transfer_id":"tr_01a23449f262706185df0acb5cc613be","type":"transfer","updated_at":"2026-12-02T01:06:31.139915Z","user_id":"user_01a23449f10c74b3bb1db600cab14f21"}','req_d733f90863d149918b8cc3ab98e3d918',1796173591139915);
INSERT INTO events VALUES(13,'evt_01a23449f2807305b3f8650561bf82b2','risk.alert','payment','pay_01a23449f27d75b9a462abd9eb23937e','{"assessment_id":"ra_01a23449f2807305b3f865044db11033","decision":"review","object":"risk_alert","payment_id":"pay_01a23449f27d75b9a462abd9eb23937e","rules":["big"],"score":40,"user_id":"user_01a23449f10c74b3bb1db600cab14f21"}',NULL,1796173591166619);
INSERT INTO events VALUES(14,'evt_01a23449f2807305b3f86506e28c637a','payment.requires_review','payment','pay_01a23449f27d75b9a462abd9eb23937e','{"amount":25000,"amount_refunded":0,"context":{"device_id":"dev-1","ip_address":"203.0.113.9","location":{"country":"DE","lat":52.5,"lon":13.4}},"created_at":"2026-12-02T01:06:31.166619Z","currency":"USD","description":null,"destination_account_id":"acct_01a23449f1737669be4a1c0f9ab94adb","failure_code":null,"failure_reason":null,"history":[{"at":"2026-12-02T01:06:31.166619Z","from":null,"reason":"created","to":"pending"},{"at":"2026-12-02T01:06:31.166619Z","from":"pending","reason":"gates","to":"processing"},{"at":"2026-12-02T01:06:31.166619Z","from":"processing","reason":"score 40 is medium","to":"requires_review"}],"id":"pay_01a23449f27d75b9a462abd9eb23937e","metadata":{},"method":"card","object":"payment","reference":null,"refunds":[],"risk_assessment_id":"ra_01a23449f2807305b3f865044db11033","source_account_id":"acct_01a23449f153704bbfe6e317b522fbcb","status":"requires_review","transfer_id":"tr_01a23449f27d75b9a462abda6498ba86","type":"transfer","updated_at":"2026-12-02T01:06:31.166619Z","user_id":"user_01a23449f10c74b3bb1db600cab14f21"}','req_03d6c255e1b94d23b5398694abc5f4aa',1796173591166619);
INSERT INTO events VALUES(15,'evt_01a23449f29675a0861f171e86145980','payment.failed','payment','pay_01a23449f2947372936e265378f48c91','{"amount":500,"amount_refunded":0,"context":{"device_id":"evil","ip_address":"203.0.113.9","location":{"country":"DE","lat":52.5,"lon":13.4}},"created_at":"2026-12-02T01:06:31.189244Z","currency":"USD","description":null,"destination_account_id":"acct_01a23449f1737669be4a1c0f9ab94adb","failure_code":"risk_blocked","failure_reason":"rule `evil` asks to block","history":[{"at":"2026-12-02T01:06:31.189244Z","from":null,"reason":"created","to":"pending"},{"at":"2026-12-02T01:06:31.189244Z","from":"pending","reason":"gates","to":"processing"},{"at":"2026-12-02T01:06:31.189244Z","from":"processing","reason":"risk_blocked: rule `evil` asks to block","to":"failed"}],"id":"pay_01a23449f2947372936e265378f48c91","metadata":{},"method":"card","object":"payment","reference":null,"refunds":[],"risk_assessment_id":"ra_01a23449f29675a0861f171df972185b","source_account_id":"acct_01a23449f153704bbfe6e317b522fbcb","status":"failed","transfer_id":null,"type":"transfer","updated_at":"2026-12-02T01:06:31.189244Z","user_id":"user_01a23449f10c74b3bb1db600cab14f21"}','req_c96db43c2af94fadacdedb68ff9a14d9',1796173591189244);
INSERT INTO events VALUES(16,'evt_01a23449f2a871579811c6e194e2865b','risk.alert','payment','pay_01a23449f2a676c5b9bc6ec50091d519','{"assessment_id":"ra_01a23449f2a774a9b38520a79ae5d3ba","decision":"reject","object":"risk_alert","payment_id":"pay_01a23449f2a676c5b9bc6ec50091d519","rules":["big"],"score":40,"user_id":"user_01a23449f10c74b3bb1db600cab14f21"}',NULL,1796173591206460);
INSERT INTO events VALUES(17,'evt_01a23449f2a871579811c6e2dc55784c','payment.failed','payment','pay_01a23449f2a676c5b9bc6ec50091d519','{"amount":95000,"amount_refunded":0,"context":{"device_id":"dev-1","ip_address":"203.0.113.9","location":{"country":"DE","lat":52.5,"lon":13.4}},"created_at":"2026-12-02T01:06:31.20646Z","currency":"USD","description":null,"destination_account_id":"acct_01a23449f1737669be4a1c0f9ab94adb","failure_code":"risk_rejected","failure_reason":"rule `huge` asks to reject","history":[{"at":"2026-12-02T01:06:31.20646Z","from":null,"reason":"created","to":"pending"},{"at":"2026-12-02T01:06:31.20646Z","from":"pending","reason":"gates","to":"processing"},{"at":"2026-12-02T01:06:31.20646Z","from":"processing","reason":"risk_rejected: rule `huge` asks to reject","to":"failed"}],"id":"pay_01a23449f2a676c5b9bc6ec50091d519","metadata":{},"method":"card","object":"payment","reference":null,"refunds":[],"risk_assessment_id":"ra_01a23449f2a774a9b38520a79ae5d3ba","source_account_id":"acct_01a23449f153704bbfe6e317b522fbcb","status":"failed","transfer_id":null,"type":"transfer","updated_at":"2026-12-02T01:06:31.20646Z","user_id":"user_01a23449f10c74b3bb1db600cab14f21"}','req_0617f0afc4c74898994cafddcd7063aa',1796173591206460);
INSERT INTO events VALUES(18,'evt_01a23449f2b975609aabc6f8846f469a','refund.created','payment','pay_01a23449f262706185df0acaefa7fc38','{"amount":400,"created_at":"2026-12-02T01:06:31.222319Z","id":"re_01a23449f2b5770abda5ae22232e087b","object":"refund","payment":{"amount":1000,"amount_refunded":400,"context":{"device_id":"dev-1","ip_address":"203.0.113.9","location":{"country":"DE","lat":52.5,"lon":13.4}},"created_at":"2026-12-02T01:06:31.139915Z","currency":"USD","description":null,"destination_account_id":"acct_01a23449f1737669be4a1c0f9ab94adb","failure_code":null,"failure_reason":null,"history":[{"at":"2026-12-02T01:06:31.139915Z","from":null,"reason":"created","to":"pending"},{"at":"2026-12-02T01:06:31.139915Z","from":"pending","reason":"gates","to":"processing"},{"at":"2026-12-02T01:06:31.139915Z","from":"processing","reason":"all gates passed","to":"completed"},{"at":"2026-12-02T01:06:31.222319Z","from":"completed","reason":"refund re_01a23449f2b5770abda5ae22232e087b of 400","to":"partially_refunded"}],"id":"pay_01a23449f262706185df0acaefa7fc38","metadata":{},"method":"card","object":"payment","reference":null,"refunds":[{"amount":400,"created_at":"2026-12-02T01:06:31.222319Z","id":"re_01a23449f2b5770abda5ae22232e087b","object":"refund","payment_id":"pay_01a23449f262706185df0acaefa7fc38","reason":null,"transfer_id":"tr_01a23449f2b5770abda5ae231d230a3e"}],"risk_assessment_id":"ra_01a23449f267751ab00265998d5ededd","source_account_id":"acct_01a23449f153704bbfe6e317b522fbcb","status":"partially_refunded","transfer_id":"tr_01a23449f262706185df0acb5cc613be","type":"transfer","updated_at":"2026-12-02T01:06:31.222319Z","user_id":"user_01a23449f10c74b3bb1db600cab14f21"},"payment_id":"pay_01a23449f262706185df0acaefa7fc38","reason":null,"transfer_id":"tr_01a23449f2b5770abda5ae231d230a3e"}','req_c723a77e32174e8d986a469ec05c2313',1796173591222319);
INSERT INTO events VALUES(19,'evt_01a23449f2c8722eb92c51a3ef7734dc','payment.labeled','payment','pay_01a23449f262706185df0acaefa7fc38','{"actor":"key_01a23449c29175f184b0d300a618da54","created_at":"2026-12-02T01:06:31.238657Z","id":"lbl_01a23449f2c570b5bd260e32cd3ef4b3","label":"legitimate","note":null,"object":"payment_label","payment_id":"pay_01a23449f262706185df0acaefa7fc38","source":"manual"}','req_5b395077d20e4dd58b88493aa77e84fb',1796173591238657);
INSERT INTO events VALUES(20,'evt_01a23449f2db74f4bc86ce5160423ebd','settlement.completed','settlement','stl_01a23449f2da77438015a548895045f5','{"data":[{"created_at":"2026-12-02T01:06:31.25762Z","currency":"USD","destination_account_id":"acct_01a23449f1737669be4a1c0f9ab94adb","failure_reason":null,"fees":48,"gross":600,"id":"stl_01a23449f2da77438015a548895045f5","journal_entry_id":"je_01a23449f2da77438015a54b6dec68c2","net":552,"object":"settlement","payment_count":1,"payments":[{"amount":600,"payment_id":"pay_01a23449f262706185df0acaefa7fc38"}],"status":"completed"}],"has_more":false,"object":"list"}','req_fe9e727418794735a0250aae9ac3c127',1796173591257620);
CREATE TABLE audit_events (
    seq            BIGINT PRIMARY KEY,
    id             TEXT NOT NULL,
    actor          TEXT NOT NULL,
    action         TEXT NOT NULL,
    resource_type  TEXT,
    resource_id    TEXT,
    result         TEXT NOT NULL,
    request_id     TEXT,
    ip             TEXT,
    details        TEXT NOT NULL,
    created_at     BIGINT NOT NULL,
    prev_hash      TEXT NOT NULL,
    hash           TEXT NOT NULL
);
INSERT INTO audit_events VALUES(1,'aud_01a23449f10e77f7b0be35aef4b9a94d','key_01a23449c29175f184b0d300a618da54','user.create','user','user_01a23449f10c74b3bb1db600cab14f21','success','req_cf445d8bde5446ceb81ad3f99e4f2b73','127.0.0.1','{}',1796173590797690,'0000000000000000000000000000000000000000000000000000000000000000','fa8aeaf93cb0993b2ddce0585640c2180c66f6bba96025d15ffec84bf66b5ffd');
INSERT INTO audit_events VALUES(2,'aud_01a23449f135751991cf579453c8039e','key_01a23449c29175f184b0d300a618da54','account.create','account','acct_01a23449f13473cc9f103798ded5cd1f','success','req_aa26b3665cde471d8aa4d9b95b5ebebc','127.0.0.1','{}',1796173590836348,'fa8aeaf93cb0993b2ddce0585640c2180c66f6bba96025d15ffec84bf66b5ffd','3fda1598187df744c230f4898441122d12cf6bba4288fd87366c1d25fe4aeb7d');
INSERT INTO audit_events VALUES(3,'aud_01a23449f15976bf998ab32fe33e895e','key_01a23449c29175f184b0d300a618da54','account.create','account','acct_01a23449f153704bbfe6e317b522fbcb','success','req_7c6e5a427b974bcfa103dcc2e2d4c15c','127.0.0.1','{}',1796173590869688,'3fda1598187df744c230f4898441122d12cf6bba4288fd87366c1d25fe4aeb7d','274e0fd3761d5291641ad3e00db5738eee0efe033568d4c2697acffcc2a966b7');
INSERT INTO audit_events VALUES(4,'aud_01a23449f17475c8944615843c1d401c','key_01a23449c29175f184b0d300a618da54','account.create','account','acct_01a23449f1737669be4a1c0f9ab94adb','success','req_459cb3c44f324513a13d619769b8a994','127.0.0.1','{}',1796173590899799,'274e0fd3761d5291641ad3e00db5738eee0efe033568d4c2697acffcc2a966b7','d6740905e6c21add8ccc77e40ae35dbdf87f453bfbb58397e1988a004f56f46c');
INSERT INTO audit_events VALUES(5,'aud_01a23449f18d76c0a13be9aabaad606d','key_01a23449c29175f184b0d300a618da54','account.create','account','acct_01a23449f18c711e8b7e448515b05efc','success','req_af9a08f8f0574956a6e85aa49b7783c5','127.0.0.1','{}',1796173590924941,'d6740905e6c21add8ccc77e40ae35dbdf87f453bfbb58397e1988a004f56f46c','a7dfd80df5cf5a4e7e29e76f395d82e1a89732aac107f004db71c2fb29eea368');
INSERT INTO audit_events VALUES(6,'aud_01a23449f1ab71e2b31814efe87851de','key_01a23449c29175f184b0d300a618da54','transfer.create','transfer','tr_01a23449f1aa704eb773c3c9fb75ee87','success','req_43bfdea5e63948ee81fe77406c3f7dc4','127.0.0.1','{}',1796173590954440,'a7dfd80df5cf5a4e7e29e76f395d82e1a89732aac107f004db71c2fb29eea368','fefbf4acaed3987efa0f81f50ca8845f162ec8d9e2fa74f65787696c19ae8b7c');
INSERT INTO audit_events VALUES(7,'aud_01a23449f1c1776ca88ca1f1e3856782','key_01a23449c29175f184b0d300a618da54','transfer.create','transfer','tr_01a23449f1bc748d9e3fb313dc87e7c7','success','req_5384a3f24ed44a74a82757647b5d959a','127.0.0.1','{}',1796173590973249,'fefbf4acaed3987efa0f81f50ca8845f162ec8d9e2fa74f65787696c19ae8b7c','01f90a33b6be599bc9ba9d06881a5e668e037880eda2008a802dc9ca6734778d');
INSERT INTO audit_events VALUES(8,'aud_01a23449f1d87555ae8543f9608e8e77','key_01a23449c29175f184b0d300a618da54','transfer.void','transfer','tr_01a23449f1bc748d9e3fb313dc87e7c7','success','req_5d965aebbac94bdfbef70cf7949703ed','127.0.0.1','{}',1796173590998709,'01f90a33b6be599bc9ba9d06881a5e668e037880eda2008a802dc9ca6734778d','fc51d1f300b6e5151e24ac6644ff0b1c2b90b8c282c87a959044cfba25c09371');
INSERT INTO audit_events VALUES(9,'aud_01a23449f1e9753385df43d53d2e288d','key_01a23449c29175f184b0d300a618da54','transfer.create','transfer','tr_01a23449f1e87493a35679f15ee8d035','success','req_bfcfbba3b8714a39839824dd23babc11','127.0.0.1','{}',1796173591016906,'fc51d1f300b6e5151e24ac6644ff0b1c2b90b8c282c87a959044cfba25c09371','51f44e96c76cdb02de23ee73d5a690c660d83bea3c22612c3854b18fcb31ff12');
INSERT INTO audit_events VALUES(10,'aud_01a23449f20c767ab439ba3921d3beb7','key_01a23449c29175f184b0d300a618da54','transfer.post','transfer','tr_01a23449f1e87493a35679f15ee8d035','success','req_1179100c785d4a1b84201b007586a3cd','127.0.0.1','{}',1796173591050750,'51f44e96c76cdb02de23ee73d5a690c660d83bea3c22612c3854b18fcb31ff12','c3d5fff3fb6161ac4ee81710335646a0ffd6646cb87746caa6d45da6901845ff');
INSERT INTO audit_events VALUES(11,'aud_01a23449f21b736b8e9f5e38efde3bb2','key_01a23449c29175f184b0d300a618da54','journal_entry.create','journal_entry','je_01a23449f21974a8a43c53d4af5aae73','success','req_dafdefa91f6447f3a316e17e815f6cd8','127.0.0.1','{}',1796173591066085,'c3d5fff3fb6161ac4ee81710335646a0ffd6646cb87746caa6d45da6901845ff','9d2dfb903c71c7d0c00032c4ece275cd40cc67d3be7d625f62afbcc7c55e17a4');
INSERT INTO audit_events VALUES(12,'aud_01a23449f22b74ceaa50fdd8b875c0b2','key_01a23449c29175f184b0d300a618da54','risk_rule.create','risk_rule','big','success','req_38ff8be6973446cb8ba6533ffa82a33b','127.0.0.1','{}',1796173591082603,'9d2dfb903c71c7d0c00032c4ece275cd40cc67d3be7d625f62afbcc7c55e17a4','773ef9b7388b3c6b5f4e91ba34d7c741824e26eba099d68dd661e4df9a190a4f');
INSERT INTO audit_events VALUES(13,'aud_01a23449f23b7063a5ac7a293594c919','key_01a23449c29175f184b0d300a618da54','risk_rule.create','risk_rule','huge','success','req_0d031945f960443f8abca6237caca218','127.0.0.1','{}',1796173591098547,'773ef9b7388b3c6b5f4e91ba34d7c741824e26eba099d68dd661e4df9a190a4f','5141bfdae63a01b401b4f6180684a36ccacc43e2dfc94354fff04fcf71e03189');
INSERT INTO audit_events VALUES(14,'aud_01a23449f24a7022970eeafac4a3802a','key_01a23449c29175f184b0d300a618da54','risk_rule.create','risk_rule','evil','success','req_0dd0c93ea6ba4d35adeb2be43b329ba5','127.0.0.1','{}',1796173591113632,'5141bfdae63a01b401b4f6180684a36ccacc43e2dfc94354fff04fcf71e03189','c0e1cdf92005547d2aa79912e9cfee201e0742554db29010ec4a2a6734a2571f');
INSERT INTO audit_events VALUES(15,'aud_01a23449f26c7310b99c5af50791ac07','key_01a23449c29175f184b0d300a618da54','payment.create','payment','pay_01a23449f262706185df0acaefa7fc38','success','req_d733f90863d149918b8cc3ab98e3d918','127.0.0.1','{}',1796173591139915,'c0e1cdf92005547d2aa79912e9cfee201e0742554db29010ec4a2a6734a2571f','77e307b332bb69bb3a51ce1c3d33b9d343dcf55040247bc2a346abbefe550d70');
INSERT INTO audit_events VALUES(16,'aud_01a23449f2807305b3f8650720899c5d','key_01a23449c29175f184b0d300a618da54','payment.create','payment','pay_01a23449f27d75b9a462abd9eb23937e','success','req_03d6c255e1b94d23b5398694abc5f4aa','127.0.0.1','{}',1796173591166619,'77e307b332bb69bb3a51ce1c3d33b9d343dcf55040247bc2a346abbefe550d70','884e5ae949e475ad217f8eb8508e970ed30be316a96a2022db76cd2d460e9ffb');
INSERT INTO audit_events VALUES(17,'aud_01a23449f29675a0861f171f5f89843e','key_01a23449c29175f184b0d300a618da54','payment.create','payment','pay_01a23449f2947372936e265378f48c91','success','req_c96db43c2af94fadacdedb68ff9a14d9','127.0.0.1','{}',1796173591189244,'884e5ae949e475ad217f8eb8508e970ed30be316a96a2022db76cd2d460e9ffb','5860620e2f83253a8ddbfd97b45fcf8088cea77c6cfae68952cf4c93c5de33bb');
INSERT INTO audit_events VALUES(18,'aud_01a23449f2a871579811c6e310465f09','key_01a23449c29175f184b0d300a618da54','payment.create','payment','pay_01a23449f2a676c5b9bc6ec50091d519','success','req_0617f0afc4c74898994cafddcd7063aa','127.0.0.1','{}',1796173591206460,'5860620e2f83253a8ddbfd97b45fcf8088cea77c6cfae68952cf4c93c5de33bb','c772280dd8123091b7e6170ba68585e4dce7c6c3671cc701fa8d1cfb52e54ea7');
INSERT INTO audit_events VALUES(19,'aud_01a23449f2b975609aabc6f960aa22e1','key_01a23449c29175f184b0d300a618da54','payment.refund','payment','pay_01a23449f262706185df0acaefa7fc38','success','req_c723a77e32174e8d986a469ec05c2313','127.0.0.1','{}',1796173591222319,'c772280dd8123091b7e6170ba68585e4dce7c6c3671cc701fa8d1cfb52e54ea7','ca399558dc40ba71db4b5e555941041047c007866741645baa651da4f3dd28c4');
INSERT INTO audit_events VALUES(20,'aud_01a23449f2c8722eb92c51a49f283f27','key_01a23449c29175f184b0d300a618da54','payment.label','payment','pay_01a23449f262706185df0acaefa7fc38','success','req_5b395077d20e4dd58b88493aa77e84fb','127.0.0.1','{"label":"legitimate","note":null,"source":"manual"}',1796173591238657,'ca399558dc40ba71db4b5e555941041047c007866741645baa651da4f3dd28c4','8f7d902122dd9513c404702a37456f0b4d65dfc5b29e2c34f724485283b126db');
INSERT INTO audit_events VALUES(21,'aud_01a23449f2db74f4bc86ce52d989ba3e','key_01a23449c29175f184b0d300a618da54','settlement.run','account','acct_01a23449f1737669be4a1c0f9ab94adb','success','req_fe9e727418794735a0250aae9ac3c127','127.0.0.1','{}',1796173591257620,'8f7d902122dd9513c404702a37456f0b4d65dfc5b29e2c34f724485283b126db','6700fda650558ba048e30561a6ee1611ac7520918e6ef06aa30922e2607e903a');
INSERT INTO audit_events VALUES(22,'aud_01a23449f2ec735ba7c0aaae0dd74519','key_01a23449c29175f184b0d300a618da54','api_key.create','api_key','key_01a23449f2ea737480656cf105918df8','success','req_ea56335a81524cf08e2e9d5137ec8cd6','127.0.0.1','{}',1796173591275696,'6700fda650558ba048e30561a6ee1611ac7520918e6ef06aa30922e2607e903a','56a369ec0b50c086e23ab662eaafbde78c9b9b03596841a8f5e59a4d72b0c0d3');
CREATE TABLE payments (
    id                      TEXT PRIMARY KEY,
    user_id                 TEXT NOT NULL,
    source_account_id       TEXT NOT NULL,
    destination_account_id  TEXT NOT NULL,
    amount                  BIGINT NOT NULL CHECK (amount > 0),
    currency                TEXT NOT NULL,
    type                    TEXT NOT NULL,
    method                  TEXT NOT NULL,
    status                  TEXT NOT NULL,
    refunded_amount         BIGINT NOT NULL CHECK (refunded_amount >= 0 AND refunded_amount <= amount),
    transfer_id             TEXT REFERENCES transfers(id),
    reference               TEXT,
    description             TEXT,
    metadata                TEXT NOT NULL,
    context                 TEXT NOT NULL,
    failure_code            TEXT,
    failure_reason          TEXT,
    created_at              BIGINT NOT NULL,
    updated_at              BIGINT NOT NULL
, device_id TEXT, ip_address TEXT, country TEXT, merchant_id TEXT, risk_assessment_id TEXT);
INSERT INTO payments VALUES('pay_01a23449f262706185df0acaefa7fc38','user_01a23449f10c74b3bb1db600cab14f21','acct_01a23449f153704bbfe6e317b522fbcb','acct_01a23449f1737669be4a1c0f9ab94adb',1000,'USD','transfer','card','partially_refunded',400,'tr_01a23449f262706185df0acb5cc613be',NULL,NULL,'{}','{"device_id":"dev-1","ip_address":"203.0.113.9","location":{"country":"DE","lat":52.5,"lon":13.4}}',NULL,NULL,1796173591139915,1796173591222319,'dev-1','203.0.113.9','DE',NULL,'ra_01a23449f267751ab00265998d5ededd');
INSERT INTO payments VALUES('pay_01a23449f27d75b9a462abd9eb23937e','user_01a23449f10c74b3bb1db600cab14f21','acct_01a23449f153704bbfe6e317b522fbcb','acct_01a23449f1737669be4a1c0f9ab94adb',25000,'USD','transfer','card','requires_review',0,'tr_01a23449f27d75b9a462abda6498ba86',NULL,NULL,'{}','{"device_id":"dev-1","ip_address":"203.0.113.9","location":{"country":"DE","lat":52.5,"lon":13.4}}',NULL,NULL,1796173591166619,1796173591166619,'dev-1','203.0.113.9','DE',NULL,'ra_01a23449f2807305b3f865044db11033');
INSERT INTO payments VALUES('pay_01a23449f2947372936e265378f48c91','user_01a23449f10c74b3bb1db600cab14f21','acct_01a23449f153704bbfe6e317b522fbcb','acct_01a23449f1737669be4a1c0f9ab94adb',500,'USD','transfer','card','failed',0,NULL,NULL,NULL,'{}','{"device_id":"evil","ip_address":"203.0.113.9","location":{"country":"DE","lat":52.5,"lon":13.4}}','risk_blocked','rule `evil` asks to block',1796173591189244,1796173591189244,'evil','203.0.113.9','DE',NULL,'ra_01a23449f29675a0861f171df972185b');
INSERT INTO payments VALUES('pay_01a23449f2a676c5b9bc6ec50091d519','user_01a23449f10c74b3bb1db600cab14f21','acct_01a23449f153704bbfe6e317b522fbcb','acct_01a23449f1737669be4a1c0f9ab94adb',95000,'USD','transfer','card','failed',0,NULL,NULL,NULL,'{}','{"device_id":"dev-1","ip_address":"203.0.113.9","location":{"country":"DE","lat":52.5,"lon":13.4}}','risk_rejected','rule `huge` asks to reject',1796173591206460,1796173591206460,'dev-1','203.0.113.9','DE',NULL,'ra_01a23449f2a774a9b38520a79ae5d3ba');
CREATE TABLE payment_transitions (
    payment_id   TEXT NOT NULL REFERENCES payments(id),
    seq          BIGINT NOT NULL,
    from_status  TEXT,
    to_status    TEXT NOT NULL,
    reason       TEXT,
    created_at   BIGINT NOT NULL,
    PRIMARY KEY (payment_id, seq)
);
INSERT INTO payment_transitions VALUES('pay_01a23449f262706185df0acaefa7fc38',1,NULL,'pending','created',1796173591139915);
INSERT INTO payment_transitions VALUES('pay_01a23449f262706185df0acaefa7fc38',2,'pending','processing','gates',1796173591139915);
INSERT INTO payment_transitions VALUES('pay_01a23449f262706185df0acaefa7fc38',3,'processing','completed','all gates passed',1796173591139915);
INSERT INTO payment_transitions VALUES('pay_01a23449f27d75b9a462abd9eb23937e',1,NULL,'pending','created',1796173591166619);
INSERT INTO payment_transitions VALUES('pay_01a23449f27d75b9a462abd9eb23937e',2,'pending','processing','gates',1796173591166619);
INSERT INTO payment_transitions VALUES('pay_01a23449f27d75b9a462abd9eb23937e',3,'processing','requires_review','score 40 is medium',1796173591166619);
INSERT INTO payment_transitions VALUES('pay_01a23449f2947372936e265378f48c91',1,NULL,'pending','created',1796173591189244);
INSERT INTO payment_transitions VALUES('pay_01a23449f2947372936e265378f48c91',2,'pending','processing','gates',1796173591189244);
INSERT INTO payment_transitions VALUES('pay_01a23449f2947372936e265378f48c91',3,'processing','failed','risk_blocked: rule `evil` asks to block',1796173591189244);
INSERT INTO payment_transitions VALUES('pay_01a23449f2a676c5b9bc6ec50091d519',1,NULL,'pending','created',1796173591206460);
INSERT INTO payment_transitions VALUES('pay_01a23449f2a676c5b9bc6ec50091d519',2,'pending','processing','gates',1796173591206460);
INSERT INTO payment_transitions VALUES('pay_01a23449f2a676c5b9bc6ec50091d519',3,'processing','failed','risk_rejected: rule `huge` asks to reject',1796173591206460);
INSERT INTO payment_transitions VALUES('pay_01a23449f262706185df0acaefa7fc38',4,'completed','partially_refunded','refund re_01a23449f2b5770abda5ae22232e087b of 400',1796173591222319);
CREATE TABLE refunds (
    id           TEXT PRIMARY KEY,
    payment_id   TEXT NOT NULL REFERENCES payments(id),
    amount       BIGINT NOT NULL CHECK (amount > 0),
    transfer_id  TEXT NOT NULL REFERENCES transfers(id),
    reason       TEXT,
    created_at   BIGINT NOT NULL
);
INSERT INTO refunds VALUES('re_01a23449f2b5770abda5ae22232e087b','pay_01a23449f262706185df0acaefa7fc38',400,'tr_01a23449f2b5770abda5ae231d230a3e',NULL,1796173591222319);
CREATE TABLE system_accounts (
    purpose     TEXT NOT NULL,
    currency    TEXT NOT NULL,
    account_id  TEXT NOT NULL REFERENCES accounts(id),
    PRIMARY KEY (purpose, currency)
);
INSERT INTO system_accounts VALUES('fees','USD','acct_01a23449f2da77438015a5498ca3d86c');
INSERT INTO system_accounts VALUES('settlement','USD','acct_01a23449f2da77438015a54acf175268');
CREATE TABLE settlements (
    id                      TEXT PRIMARY KEY,
    destination_account_id  TEXT NOT NULL,
    currency                TEXT NOT NULL,
    status                  TEXT NOT NULL,
    payment_count           BIGINT NOT NULL,
    gross                   BIGINT NOT NULL,
    fees                    BIGINT NOT NULL,
    net                     BIGINT NOT NULL,
    journal_entry_id        TEXT,
    failure_reason          TEXT,
    created_at              BIGINT NOT NULL,
    CHECK (gross = fees + net AND fees >= 0 AND net >= 0)
);
INSERT INTO settlements VALUES('stl_01a23449f2da77438015a548895045f5','acct_01a23449f1737669be4a1c0f9ab94adb','USD','completed',1,600,48,552,'je_01a23449f2da77438015a54b6dec68c2',NULL,1796173591257620);
CREATE TABLE clearings (
    id                      TEXT PRIMARY KEY,
    payment_id              TEXT NOT NULL UNIQUE REFERENCES payments(id),
    destination_account_id  TEXT NOT NULL,
    currency                TEXT NOT NULL,
    status                  TEXT NOT NULL,
    amount                  BIGINT NOT NULL,
    settlement_id           TEXT REFERENCES settlements(id),
    created_at              BIGINT NOT NULL,
    updated_at              BIGINT NOT NULL
);
INSERT INTO clearings VALUES('clr_01a23449f267751ab002659ac653926e','pay_01a23449f262706185df0acaefa7fc38','acct_01a23449f1737669be4a1c0f9ab94adb','USD','completed',1000,'stl_01a23449f2da77438015a548895045f5',1796173591139915,1796173591257620);
CREATE TABLE task_leases (
    name         TEXT PRIMARY KEY,
    owner        TEXT NOT NULL,
    lease_until  BIGINT NOT NULL
);
INSERT INTO task_leases VALUES('expire_pending','24148-47bc4683',1796173594036594);
INSERT INTO task_leases VALUES('webhook_delivery','24148-47bc4683',1796173594043255);
CREATE TABLE task_runs (
    id           TEXT PRIMARY KEY,
    name         TEXT NOT NULL,
    owner        TEXT NOT NULL,
    status       TEXT NOT NULL,
    started_at   BIGINT NOT NULL,
    duration_us  BIGINT NOT NULL,
    processed    BIGINT NOT NULL,
    error        TEXT
);
CREATE TABLE relay_cursors (
    name      TEXT PRIMARY KEY,
    position  BIGINT NOT NULL
);
INSERT INTO relay_cursors VALUES('webhooks',9);
CREATE TABLE webhook_endpoints (
    id           TEXT PRIMARY KEY,
    url          TEXT NOT NULL,
    secret       TEXT NOT NULL,
    event_types  TEXT NOT NULL,
    status       TEXT NOT NULL,
    created_at   BIGINT NOT NULL
);
CREATE TABLE webhook_deliveries (
    id                TEXT PRIMARY KEY,
    endpoint_id       TEXT NOT NULL REFERENCES webhook_endpoints(id),
    event_seq         BIGINT NOT NULL REFERENCES events(seq),
    status            TEXT NOT NULL,
    attempts          BIGINT NOT NULL,
    next_attempt_at   BIGINT NOT NULL,
    last_status_code  BIGINT,
    last_error        TEXT,
    created_at        BIGINT NOT NULL,
    updated_at        BIGINT NOT NULL,
    UNIQUE (endpoint_id, event_seq)
);
CREATE TABLE risk_rules (
    id          TEXT PRIMARY KEY,
    version     BIGINT NOT NULL,
    document    TEXT NOT NULL,
    deleted     BIGINT NOT NULL,
    updated_at  BIGINT NOT NULL
);
INSERT INTO risk_rules VALUES('big',1,'{"actions":[{"type":"review"},{"by":40,"type":"increase_score"},{"type":"flag"},{"type":"notify"}],"condition":{"field":"amount","op":"gt","value":20000},"id":"big","name":"big payment","priority":1,"weight":40}',0,1796173591082603);
INSERT INTO risk_rules VALUES('huge',1,'{"actions":[{"type":"reject"},{"key":"user","seconds":60,"type":"rate_limit"},{"type":"require_2fa"}],"condition":{"field":"amount","op":"gt","value":90000},"id":"huge","name":"huge payment","priority":2}',0,1796173591098547);
INSERT INTO risk_rules VALUES('evil',1,'{"actions":[{"type":"block"}],"condition":{"field":"device_id","op":"eq","value":"evil"},"id":"evil","name":"blocked device","priority":3}',0,1796173591113632);
CREATE TABLE risk_rule_versions (
    rule_id     TEXT NOT NULL,
    version     BIGINT NOT NULL,
    document    TEXT,
    created_at  BIGINT NOT NULL,
    PRIMARY KEY (rule_id, version)
);
INSERT INTO risk_rule_versions VALUES('big',1,'{"actions":[{"type":"review"},{"by":40,"type":"increase_score"},{"type":"flag"},{"type":"notify"}],"condition":{"field":"amount","op":"gt","value":20000},"id":"big","name":"big payment","priority":1,"weight":40}',1796173591082603);
INSERT INTO risk_rule_versions VALUES('huge',1,'{"actions":[{"type":"reject"},{"key":"user","seconds":60,"type":"rate_limit"},{"type":"require_2fa"}],"condition":{"field":"amount","op":"gt","value":90000},"id":"huge","name":"huge payment","priority":2}',1796173591098547);
INSERT INTO risk_rule_versions VALUES('evil',1,'{"actions":[{"type":"block"}],"condition":{"field":"device_id","op":"eq","value":"evil"},"id":"evil","name":"blocked device","priority":3}',1796173591113632);
CREATE TABLE risk_assessments (
    id          TEXT PRIMARY KEY,
    payment_id  TEXT NOT NULL,
    user_id     TEXT NOT NULL,
    score       BIGINT NOT NULL,
    level       TEXT NOT NULL,
    decision    TEXT NOT NULL,
    reason      TEXT NOT NULL,
    fired       TEXT NOT NULL,
    created_at  BIGINT NOT NULL
, details TEXT);
INSERT INTO risk_assessments VALUES('ra_01a23449f267751ab00265998d5ededd','pay_01a23449f262706185df0acaefa7fc38','user_01a23449f10c74b3bb1db600cab14f21',0,'low','approve','score 0 is low','[]',1796173591139915,'{"flags":[],"notified":[],"require_2fa":false,"time_zone":"UTC","time_zone_offset_seconds":0}');
INSERT INTO risk_assessments VALUES('ra_01a23449f2807305b3f865044db11033','pay_01a23449f27d75b9a462abd9eb23937e','user_01a23449f10c74b3bb1db600cab14f21',40,'medium','review','score 40 is medium','[{"actions":"[Review, IncreaseScore(40), Flag, Notify]","contribution":40,"rule_id":"big"}]',1796173591166619,'{"flags":["big"],"notified":["big"],"require_2fa":false,"time_zone":"UTC","time_zone_offset_seconds":0}');
INSERT INTO risk_assessments VALUES('ra_01a23449f29675a0861f171df972185b','pay_01a23449f2947372936e265378f48c91','user_01a23449f10c74b3bb1db600cab14f21',0,'low','block','rule `evil` asks to block','[{"actions":"[Block]","contribution":0,"rule_id":"evil"}]',1796173591189244,'{"flags":[],"notified":[],"require_2fa":false,"time_zone":"UTC","time_zone_offset_seconds":0}');
INSERT INTO risk_assessments VALUES('ra_01a23449f2a774a9b38520a79ae5d3ba','pay_01a23449f2a676c5b9bc6ec50091d519','user_01a23449f10c74b3bb1db600cab14f21',40,'medium','reject','rule `huge` asks to reject','[{"actions":"[Review, IncreaseScore(40), Flag, Notify]","contribution":40,"rule_id":"big"},{"actions":"[Reject, RateLimit { key: User, seconds: 60 }, Require2fa]","contribution":0,"rule_id":"huge"}]',1796173591206460,'{"flags":["big"],"notified":["big"],"rate_limits":[{"key":"user","until_us":1796173651206460,"value":"user_01a23449f10c74b3bb1db600cab14f21"}],"require_2fa":true,"time_zone":"UTC","time_zone_offset_seconds":0}');
CREATE TABLE risk_list_items (
    list_name   TEXT NOT NULL,
    value       TEXT NOT NULL,
    created_at  BIGINT NOT NULL,
    PRIMARY KEY (list_name, value)
);
CREATE TABLE payment_labels (
    id          TEXT PRIMARY KEY,
    payment_id  TEXT NOT NULL,
    label       TEXT NOT NULL,
    source      TEXT NOT NULL,
    note        TEXT,
    actor       TEXT NOT NULL,
    created_at  BIGINT NOT NULL
);
INSERT INTO payment_labels VALUES('lbl_01a23449f2c570b5bd260e32cd3ef4b3','pay_01a23449f262706185df0acaefa7fc38','legitimate','manual',NULL,'key_01a23449c29175f184b0d300a618da54',1796173591238657);
CREATE TABLE risk_blocks (
    key_kind    TEXT NOT NULL,
    key_value   TEXT NOT NULL,
    until_us    BIGINT NOT NULL,
    rule_id     TEXT NOT NULL,
    created_at  BIGINT NOT NULL,
    PRIMARY KEY (key_kind, key_value)
);
INSERT INTO risk_blocks VALUES('user','user_01a23449f10c74b3bb1db600cab14f21',1796173651206460,'huge',1796173591208194);
CREATE TABLE risk_models (
    id                  TEXT PRIMARY KEY,
    name                TEXT NOT NULL,
    version             BIGINT NOT NULL,
    kind                TEXT NOT NULL,
    status              TEXT NOT NULL,
    features            TEXT NOT NULL,
    artifact            TEXT,
    merchant_risk       TEXT NOT NULL,
    metadata            TEXT NOT NULL,
    dataset_rows        BIGINT NOT NULL,
    trained_at          BIGINT,
    challenger_share_bp BIGINT NOT NULL,
    deployed_at         BIGINT,
    previous_id         TEXT,
    error               TEXT,
    created_by          TEXT NOT NULL,
    created_at          BIGINT NOT NULL,
    updated_at          BIGINT NOT NULL,
    UNIQUE (name, version)
);
CREATE TABLE risk_model_scores (
    assessment_id   TEXT NOT NULL,
    model_id        TEXT NOT NULL,
    payment_id      TEXT NOT NULL,
    role            TEXT NOT NULL,
    outcome         TEXT NOT NULL,
    probability_ppm BIGINT,
    score           BIGINT,
    decision        TEXT,
    latency_us      BIGINT NOT NULL,
    created_at      BIGINT NOT NULL,
    PRIMARY KEY (assessment_id, model_id)
);
CREATE TABLE credit_scores (
    id          TEXT PRIMARY KEY,
    applicant   TEXT NOT NULL,
    answer      TEXT NOT NULL,
    score       BIGINT NOT NULL,
    grade       TEXT NOT NULL,
    created_by  TEXT NOT NULL,
    created_at  BIGINT NOT NULL
);
DELETE FROM sqlite_sequence;
INSERT INTO sqlite_sequence VALUES('entries',13);
CREATE INDEX accounts_user ON accounts(user_id);
CREATE INDEX transfers_source ON transfers(source_account_id, id);
CREATE INDEX transfers_destination ON transfers(destination_account_id, id);
CREATE INDEX transfers_expiry ON transfers(expires_at) WHERE status = 'pending';
CREATE INDEX entries_account ON entries(account_id, seq);
CREATE INDEX entries_account_time ON entries(account_id, created_at);
CREATE TRIGGER entries_no_update BEFORE UPDATE ON entries
BEGIN SELECT RAISE(ABORT, 'ledger entries are append-only'); END;
CREATE TRIGGER entries_no_delete BEFORE DELETE ON entries
BEGIN SELECT RAISE(ABORT, 'ledger entries are append-only'); END;
CREATE INDEX idempotency_expiry ON idempotency_keys(expires_at);
CREATE INDEX events_type ON events(type, seq);
CREATE INDEX audit_actor ON audit_events(actor, seq);
CREATE INDEX audit_resource ON audit_events(resource_id, seq);
CREATE INDEX audit_time ON audit_events(created_at);
CREATE INDEX payments_user ON payments(user_id, created_at);
CREATE INDEX payments_source ON payments(source_account_id, id);
CREATE INDEX payments_destination ON payments(destination_account_id, id);
CREATE INDEX payments_status ON payments(status, id);
CREATE INDEX refunds_payment ON refunds(payment_id, id);
CREATE INDEX clearings_pending ON clearings(status, destination_account_id, id);
CREATE INDEX clearings_settlement ON clearings(settlement_id);
CREATE INDEX task_runs_name ON task_runs(name, id);
CREATE INDEX webhook_deliveries_due ON webhook_deliveries(status, next_attempt_at);
CREATE INDEX webhook_deliveries_endpoint ON webhook_deliveries(endpoint_id, id);
CREATE INDEX payments_account_time ON payments(source_account_id, created_at);
CREATE INDEX payments_device_time ON payments(device_id, created_at);
CREATE INDEX payments_ip_time ON payments(ip_address, created_at);
CREATE INDEX payments_merchant_time ON payments(merchant_id, created_at);
CREATE INDEX risk_assessments_user ON risk_assessments(user_id, id);
CREATE INDEX payment_labels_payment ON payment_labels(payment_id, id);
CREATE INDEX risk_model_scores_model ON risk_model_scores(model_id, created_at);
CREATE INDEX credit_scores_created ON credit_scores(created_at);
COMMIT;
