--
-- PostgreSQL database dump
--


-- Dumped from database version 15.20 (Debian 15.20-0+deb12u1)
-- Dumped by pg_dump version 15.20 (Debian 15.20-0+deb12u1)

SET statement_timeout = 0;
SET lock_timeout = 0;
SET idle_in_transaction_session_timeout = 0;
SET client_encoding = 'UTF8';
SET standard_conforming_strings = on;
SELECT pg_catalog.set_config('search_path', '', false);
SET check_function_bodies = false;
SET xmloption = content;
SET client_min_messages = warning;
SET row_security = off;

--
-- Name: rialto_entries_append_only(); Type: FUNCTION; Schema: public; Owner: -
--

CREATE FUNCTION public.rialto_entries_append_only() RETURNS trigger
    LANGUAGE plpgsql
    AS $$
BEGIN
    RAISE EXCEPTION 'ledger entries are append-only';
END;
$$;


SET default_tablespace = '';

SET default_table_access_method = heap;

--
-- Name: _sqlx_migrations; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public._sqlx_migrations (
    version bigint NOT NULL,
    description text NOT NULL,
    installed_on timestamp with time zone DEFAULT now() NOT NULL,
    success boolean NOT NULL,
    checksum bytea NOT NULL,
    execution_time bigint NOT NULL
);


--
-- Name: accounts; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.accounts (
    id text NOT NULL,
    user_id text,
    name text,
    currency text NOT NULL,
    allow_negative_balance bigint NOT NULL,
    status text NOT NULL,
    debits_posted bigint NOT NULL,
    credits_posted bigint NOT NULL,
    debits_pending bigint NOT NULL,
    credits_pending bigint NOT NULL,
    metadata text NOT NULL,
    created_at bigint NOT NULL,
    updated_at bigint NOT NULL,
    CONSTRAINT accounts_check CHECK (((allow_negative_balance = 1) OR (((credits_posted - debits_posted) - debits_pending) >= 0))),
    CONSTRAINT accounts_credits_pending_check CHECK ((credits_pending >= 0)),
    CONSTRAINT accounts_credits_posted_check CHECK ((credits_posted >= 0)),
    CONSTRAINT accounts_debits_pending_check CHECK ((debits_pending >= 0)),
    CONSTRAINT accounts_debits_posted_check CHECK ((debits_posted >= 0))
);


--
-- Name: api_keys; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.api_keys (
    id text NOT NULL,
    name text NOT NULL,
    role text NOT NULL,
    key_hash text NOT NULL,
    prefix text NOT NULL,
    created_at bigint NOT NULL,
    revoked_at bigint
);


--
-- Name: audit_events; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.audit_events (
    seq bigint NOT NULL,
    id text NOT NULL,
    actor text NOT NULL,
    action text NOT NULL,
    resource_type text,
    resource_id text,
    result text NOT NULL,
    request_id text,
    ip text,
    details text NOT NULL,
    created_at bigint NOT NULL,
    prev_hash text NOT NULL,
    hash text NOT NULL
);


--
-- Name: clearings; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.clearings (
    id text NOT NULL,
    payment_id text NOT NULL,
    destination_account_id text NOT NULL,
    currency text NOT NULL,
    status text NOT NULL,
    amount bigint NOT NULL,
    settlement_id text,
    created_at bigint NOT NULL,
    updated_at bigint NOT NULL
);


--
-- Name: credit_scores; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.credit_scores (
    id text NOT NULL,
    applicant text NOT NULL,
    answer text NOT NULL,
    score bigint NOT NULL,
    grade text NOT NULL,
    created_by text NOT NULL,
    created_at bigint NOT NULL
);


--
-- Name: entries; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.entries (
    seq bigint NOT NULL,
    account_id text NOT NULL,
    transfer_id text,
    journal_entry_id text,
    direction text NOT NULL,
    amount bigint NOT NULL,
    currency text NOT NULL,
    balance_after bigint NOT NULL,
    created_at bigint NOT NULL,
    CONSTRAINT entries_amount_check CHECK ((amount > 0)),
    CONSTRAINT entries_direction_check CHECK ((direction = ANY (ARRAY['debit'::text, 'credit'::text])))
);


--
-- Name: entries_seq_seq; Type: SEQUENCE; Schema: public; Owner: -
--

CREATE SEQUENCE public.entries_seq_seq
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1;


--
-- Name: entries_seq_seq; Type: SEQUENCE OWNED BY; Schema: public; Owner: -
--

ALTER SEQUENCE public.entries_seq_seq OWNED BY public.entries.seq;


--
-- Name: events; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.events (
    seq bigint NOT NULL,
    id text NOT NULL,
    type text NOT NULL,
    resource_type text NOT NULL,
    resource_id text NOT NULL,
    data text NOT NULL,
    request_id text,
    created_at bigint NOT NULL
);


--
-- Name: idempotency_keys; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.idempotency_keys (
    id text NOT NULL,
    request_hash text NOT NULL,
    status_code bigint NOT NULL,
    body text NOT NULL,
    created_at bigint NOT NULL,
    expires_at bigint NOT NULL
);


--
-- Name: journal_entries; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.journal_entries (
    id text NOT NULL,
    description text,
    metadata text NOT NULL,
    created_at bigint NOT NULL
);


--
-- Name: ledger_heads; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.ledger_heads (
    id bigint NOT NULL,
    event_seq bigint NOT NULL,
    audit_seq bigint NOT NULL,
    audit_hash text NOT NULL
);


--
-- Name: payment_labels; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.payment_labels (
    id text NOT NULL,
    payment_id text NOT NULL,
    label text NOT NULL,
    source text NOT NULL,
    note text,
    actor text NOT NULL,
    created_at bigint NOT NULL
);


--
-- Name: payment_transitions; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.payment_transitions (
    payment_id text NOT NULL,
    seq bigint NOT NULL,
    from_status text,
    to_status text NOT NULL,
    reason text,
    created_at bigint NOT NULL
);


--
-- Name: payments; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.payments (
    id text NOT NULL,
    user_id text NOT NULL,
    source_account_id text NOT NULL,
    destination_account_id text NOT NULL,
    amount bigint NOT NULL,
    currency text NOT NULL,
    type text NOT NULL,
    method text NOT NULL,
    status text NOT NULL,
    refunded_amount bigint NOT NULL,
    transfer_id text,
    reference text,
    description text,
    metadata text NOT NULL,
    context text NOT NULL,
    failure_code text,
    failure_reason text,
    created_at bigint NOT NULL,
    updated_at bigint NOT NULL,
    device_id text,
    ip_address text,
    country text,
    merchant_id text,
    risk_assessment_id text,
    CONSTRAINT payments_amount_check CHECK ((amount > 0)),
    CONSTRAINT payments_check CHECK (((refunded_amount >= 0) AND (refunded_amount <= amount)))
);


--
-- Name: refunds; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.refunds (
    id text NOT NULL,
    payment_id text NOT NULL,
    amount bigint NOT NULL,
    transfer_id text NOT NULL,
    reason text,
    created_at bigint NOT NULL,
    CONSTRAINT refunds_amount_check CHECK ((amount > 0))
);


--
-- Name: relay_cursors; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.relay_cursors (
    name text NOT NULL,
    "position" bigint NOT NULL
);


--
-- Name: risk_assessments; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.risk_assessments (
    id text NOT NULL,
    payment_id text NOT NULL,
    user_id text NOT NULL,
    score bigint NOT NULL,
    level text NOT NULL,
    decision text NOT NULL,
    reason text NOT NULL,
    fired text NOT NULL,
    created_at bigint NOT NULL,
    details text
);


--
-- Name: risk_blocks; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.risk_blocks (
    key_kind text NOT NULL,
    key_value text NOT NULL,
    until_us bigint NOT NULL,
    rule_id text NOT NULL,
    created_at bigint NOT NULL
);


--
-- Name: risk_list_items; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.risk_list_items (
    list_name text NOT NULL,
    value text NOT NULL,
    created_at bigint NOT NULL
);


--
-- Name: risk_model_scores; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.risk_model_scores (
    assessment_id text NOT NULL,
    model_id text NOT NULL,
    payment_id text NOT NULL,
    role text NOT NULL,
    outcome text NOT NULL,
    probability_ppm bigint,
    score bigint,
    decision text,
    latency_us bigint NOT NULL,
    created_at bigint NOT NULL
);


--
-- Name: risk_models; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.risk_models (
    id text NOT NULL,
    name text NOT NULL,
    version bigint NOT NULL,
    kind text NOT NULL,
    status text NOT NULL,
    features text NOT NULL,
    artifact text,
    merchant_risk text NOT NULL,
    metadata text NOT NULL,
    dataset_rows bigint NOT NULL,
    trained_at bigint,
    challenger_share_bp bigint NOT NULL,
    deployed_at bigint,
    previous_id text,
    error text,
    created_by text NOT NULL,
    created_at bigint NOT NULL,
    updated_at bigint NOT NULL
);


--
-- Name: risk_rule_versions; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.risk_rule_versions (
    rule_id text NOT NULL,
    version bigint NOT NULL,
    document text,
    created_at bigint NOT NULL
);


--
-- Name: risk_rules; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.risk_rules (
    id text NOT NULL,
    version bigint NOT NULL,
    document text NOT NULL,
    deleted bigint NOT NULL,
    updated_at bigint NOT NULL
);


--
-- Name: settlements; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.settlements (
    id text NOT NULL,
    destination_account_id text NOT NULL,
    currency text NOT NULL,
    status text NOT NULL,
    payment_count bigint NOT NULL,
    gross bigint NOT NULL,
    fees bigint NOT NULL,
    net bigint NOT NULL,
    journal_entry_id text,
    failure_reason text,
    created_at bigint NOT NULL,
    CONSTRAINT settlements_check CHECK (((gross = (fees + net)) AND (fees >= 0) AND (net >= 0)))
);


--
-- Name: system_accounts; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.system_accounts (
    purpose text NOT NULL,
    currency text NOT NULL,
    account_id text NOT NULL
);


--
-- Name: task_leases; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.task_leases (
    name text NOT NULL,
    owner text NOT NULL,
    lease_until bigint NOT NULL
);


--
-- Name: task_runs; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.task_runs (
    id text NOT NULL,
    name text NOT NULL,
    owner text NOT NULL,
    status text NOT NULL,
    started_at bigint NOT NULL,
    duration_us bigint NOT NULL,
    processed bigint NOT NULL,
    error text
);


--
-- Name: transfers; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.transfers (
    id text NOT NULL,
    source_account_id text NOT NULL,
    destination_account_id text NOT NULL,
    currency text NOT NULL,
    amount bigint NOT NULL,
    posted_amount bigint NOT NULL,
    status text NOT NULL,
    pending bigint NOT NULL,
    description text,
    reference text,
    metadata text NOT NULL,
    expires_at bigint,
    reversal_of text,
    reversed_by text,
    created_at bigint NOT NULL,
    updated_at bigint NOT NULL,
    CONSTRAINT transfers_amount_check CHECK ((amount > 0))
);


--
-- Name: users; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.users (
    id text NOT NULL,
    name text NOT NULL,
    email text,
    phone text,
    role text NOT NULL,
    status text NOT NULL,
    kyc_status text NOT NULL,
    created_at bigint NOT NULL,
    updated_at bigint NOT NULL
);


--
-- Name: webhook_deliveries; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.webhook_deliveries (
    id text NOT NULL,
    endpoint_id text NOT NULL,
    event_seq bigint NOT NULL,
    status text NOT NULL,
    attempts bigint NOT NULL,
    next_attempt_at bigint NOT NULL,
    last_status_code bigint,
    last_error text,
    created_at bigint NOT NULL,
    updated_at bigint NOT NULL
);


--
-- Name: webhook_endpoints; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.webhook_endpoints (
    id text NOT NULL,
    url text NOT NULL,
    secret text NOT NULL,
    event_types text NOT NULL,
    status text NOT NULL,
    created_at bigint NOT NULL
);


--
-- Name: entries seq; Type: DEFAULT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.entries ALTER COLUMN seq SET DEFAULT nextval('public.entries_seq_seq'::regclass);


--
-- Data for Name: _sqlx_migrations; Type: TABLE DATA; Schema: public; Owner: -
--

INSERT INTO public._sqlx_migrations VALUES (1, 'ledger', '2026-12-02 01:06:39.309616+00', true, '\x5d4ece63be582739176476bddeaf670fd071eaf118efc88e3bb29a93453f5f017047aa8f6adf833f479482fb7181c60c', 28841644);
INSERT INTO public._sqlx_migrations VALUES (2, 'events audit', '2026-12-02 01:06:39.339685+00', true, '\x288c2cf8e48e96e23a2d3b5778f9cbcdcda6636d06cc88a1b6eec28ec14bc9c3dfa7e36f4e4715460c2f78f43330127f', 9243520);
INSERT INTO public._sqlx_migrations VALUES (3, 'payments', '2026-12-02 01:06:39.34977+00', true, '\xdb45b82e24f45966a9bcb1f9f73cc5164e23f34638ca4753027d3847d894a11458a22931ee3750d9f0cc34eff1dd08d4', 12636641);
INSERT INTO public._sqlx_migrations VALUES (4, 'settlement', '2026-12-02 01:06:39.363762+00', true, '\xb28200afa1137d85f36f56955d36290347fbbc907240b30aabde607f3b6fd4afe77ba76a66513de26c4ab0344ed8bf25', 13498267);
INSERT INTO public._sqlx_migrations VALUES (5, 'tasks', '2026-12-02 01:06:39.377052+00', true, '\x96ba41c5f4244945fcdc736e783110a70d9c2f8598557856eaeaba184bb3bff3d2a8fa5cae10db079693fe63189df624', 5930370);
INSERT INTO public._sqlx_migrations VALUES (6, 'webhooks', '2026-12-02 01:06:39.383432+00', true, '\xf2582f1b78f46cb27d651a1991f363d7813ab182afeddef020ff32e31963fb4e39a3e285a6a546c386f4858bcbd35102', 27227980);
INSERT INTO public._sqlx_migrations VALUES (7, 'risk rules', '2026-12-02 01:06:39.414208+00', true, '\x5599351c98dc449c7311287053c2b474eaae3df5d9ad9425f103e4b0e27251e07ee7a0138a5fb41cbc757d8354dd993a', 6005102);
INSERT INTO public._sqlx_migrations VALUES (8, 'risk assessments', '2026-12-02 01:06:39.42099+00', true, '\x98405c45a34bcee7e62b31eafa4bdfb99804d957a06d358796076c19ca78fd3238580cfe4b7decdb5337a5f66ba4a95f', 15885822);
INSERT INTO public._sqlx_migrations VALUES (9, 'risk lists', '2026-12-02 01:06:39.438073+00', true, '\xee2ac0b6b1ba4477ed7292b1e206b43d1903bbb51316b17a9a796df59c3be0eb6c1ed88c1ff64298ae1e00462d44fe26', 5912935);
INSERT INTO public._sqlx_migrations VALUES (10, 'labels limits', '2026-12-02 01:06:39.444149+00', true, '\x123859be71d3a5e0eeb0ef25e3e070310d17db3c64241d56c71a99af5047140ff044d617dbfcb1de2e18634ed1cd901a', 6066383);
INSERT INTO public._sqlx_migrations VALUES (11, 'assessment details', '2026-12-02 01:06:39.451667+00', true, '\x2f6887e587ff33e723b15e87703a170b42bf6c40797b3efdf1e8692009176ee16985e9fcb6e5e7f02f6c247b88efdf53', 2067452);
INSERT INTO public._sqlx_migrations VALUES (12, 'risk models', '2026-12-02 01:06:39.453862+00', true, '\xf0472d7de5cdfc42987bb4ee122ec9c65d642cf4581be9b3fb132b5552e6be9de473d4464d43141d2480221d7d3c64f5', 7059734);
INSERT INTO public._sqlx_migrations VALUES (13, 'credit scores', '2026-12-02 01:06:39.461953+00', true, '\xe08b6a69573c77e8ec43231dd3ef11a898de0c600fc2122322f911ab24f2d42e13b6b93b54930c77663be220882ba1c2', 5792575);


--
-- Data for Name: accounts; Type: TABLE DATA; Schema: public; Owner: -
--

INSERT INTO public.accounts VALUES ('acct_01a2344a408376a7a3a3d933a31aa0bc', NULL, NULL, 'EUR', 1, 'active', 0, 0, 0, 0, '{}', 1796173611139880, 1796173611139880);
INSERT INTO public.accounts VALUES ('acct_01a2344a40277485a8bb70794dcbd89b', NULL, 'funding', 'USD', 1, 'active', 501200, 0, 0, 0, '{}', 1796173611048475, 1796173611296284);
INSERT INTO public.accounts VALUES ('acct_01a2344a404877ca9c9668405684e671', 'user_01a2344a400c7587a0eee08df378611e', 'alice', 'USD', 0, 'active', 1000, 501300, 25000, 0, '{}', 1796173611086021, 1796173611482955);
INSERT INTO public.accounts VALUES ('acct_01a2344a420c73d5ba787c72662fa3e2', NULL, 'fees USD', 'USD', 0, 'active', 0, 48, 0, 0, '{"system":"fees"}', 1796173611529324, 1796173611529324);
INSERT INTO public.accounts VALUES ('acct_01a2344a420c73d5ba787c7372662158', NULL, 'settlement USD', 'USD', 0, 'active', 0, 552, 0, 0, '{"system":"settlement"}', 1796173611529324, 1796173611529324);
INSERT INTO public.accounts VALUES ('acct_01a2344a4067731dbba39779baba223a', NULL, 'shop', 'USD', 0, 'active', 1000, 1300, 0, 25000, '{}', 1796173611112830, 1796173611529324);


--
-- Data for Name: api_keys; Type: TABLE DATA; Schema: public; Owner: -
--

INSERT INTO public.api_keys VALUES ('key_01a2344a12f3754fb663c5c6be37e901', 'RIALTO_ADMIN_KEY', 'admin', '72f6a938966bb07939a5028d65757dc1143f21dbfde99574616b7d43a7f7d07c', 'rialto_fixtu', 1796173599475984, NULL);
INSERT INTO public.api_keys VALUES ('key_01a2344a422076e599f3363b7115c996', 'reader', 'reader', 'fc3bcdff3ead716e1e52935a5b255c6956c53673c3849a06024a6070df5114c4', 'rialto_a6041', 1796173611552741, NULL);


--
-- Data for Name: audit_events; Type: TABLE DATA; Schema: public; Owner: -
--

INSERT INTO public.audit_events VALUES (1, 'aud_01a2344a401471d1820e0f0902ca2967', 'key_01a2344a12f3754fb663c5c6be37e901', 'user.create', 'user', 'user_01a2344a400c7587a0eee08df378611e', 'success', 'req_b4389c9f39bb4922bc7696a4a0714f31', '127.0.0.1', '{}', 1796173611024468, '0000000000000000000000000000000000000000000000000000000000000000', '9d17efc1b487a2bcd747e00c4a3213e688e257f2790da981a0a8a01cd21c6522');
INSERT INTO public.audit_events VALUES (2, 'aud_01a2344a402c72ec96bdcad811959328', 'key_01a2344a12f3754fb663c5c6be37e901', 'account.create', 'account', 'acct_01a2344a40277485a8bb70794dcbd89b', 'success', 'req_9200f83b7ec94b34973f068bd3531901', '127.0.0.1', '{}', 1796173611048475, '9d17efc1b487a2bcd747e00c4a3213e688e257f2790da981a0a8a01cd21c6522', 'f33b0c8da2a73a07a0b034d90311c45b246d671289af6e18e814e03cfa45b809');
INSERT INTO public.audit_events VALUES (3, 'aud_01a2344a4052738f8cc07970725dc6eb', 'key_01a2344a12f3754fb663c5c6be37e901', 'account.create', 'account', 'acct_01a2344a404877ca9c9668405684e671', 'success', 'req_1a8588ac7f0044c4b0a13d9d2365d35e', '127.0.0.1', '{}', 1796173611086021, 'f33b0c8da2a73a07a0b034d90311c45b246d671289af6e18e814e03cfa45b809', '39c7e12cac4e7eb7babe426da719aa4f7f798704de943a3f02caa9d65189c28e');
INSERT INTO public.audit_events VALUES (4, 'aud_01a2344a406c75b786ec1d71615116a6', 'key_01a2344a12f3754fb663c5c6be37e901', 'account.create', 'account', 'acct_01a2344a4067731dbba39779baba223a', 'success', 'req_919224990fff4db8acec82d559bd610f', '127.0.0.1', '{}', 1796173611112830, '39c7e12cac4e7eb7babe426da719aa4f7f798704de943a3f02caa9d65189c28e', '366141d4c1e6f0e810b6bc802d2c6b45356eda018a6dfd6f6633deda8fb06e6d');
INSERT INTO public.audit_events VALUES (5, 'aud_01a2344a408877ca8b893b25fbc0370e', 'key_01a2344a12f3754fb663c5c6be37e901', 'account.create', 'account', 'acct_01a2344a408376a7a3a3d933a31aa0bc', 'success', 'req_e0cd0656ebf749d8870f0b966d5112b1', '127.0.0.1', '{}', 1796173611139880, '366141d4c1e6f0e810b6bc802d2c6b45356eda018a6dfd6f6633deda8fb06e6d', 'c5c5efb80ff7b88b6c347d2151d50f274e6f46e2b798571a4be3625384a6abad');
INSERT INTO public.audit_events VALUES (6, 'aud_01a2344a40ad76438919efd0e5e7c993', 'key_01a2344a12f3754fb663c5c6be37e901', 'transfer.create', 'transfer', 'tr_01a2344a409d7411837d94571f8b006f', 'success', 'req_bb35ccffbbd6405d9b05fa8705741226', '127.0.0.1', '{}', 1796173611165726, 'c5c5efb80ff7b88b6c347d2151d50f274e6f46e2b798571a4be3625384a6abad', '22693e49b00641781d70272553413352e9075dbae7db4ae6ad537856d7042a5a');
INSERT INTO public.audit_events VALUES (7, 'aud_01a2344a40c5736496cee072f148f837', 'key_01a2344a12f3754fb663c5c6be37e901', 'transfer.create', 'transfer', 'tr_01a2344a40c2715093bfae1db63a4e0e', 'success', 'req_3d244568b8984a3396dc777938348fc2', '127.0.0.1', '{}', 1796173611202800, '22693e49b00641781d70272553413352e9075dbae7db4ae6ad537856d7042a5a', '6bd49d07424c97c223992b9873690b7c5ee01683693c7a6583d4ade2d3c893da');
INSERT INTO public.audit_events VALUES (8, 'aud_01a2344a40e2704ca826893246c4659d', 'key_01a2344a12f3754fb663c5c6be37e901', 'transfer.void', 'transfer', 'tr_01a2344a40c2715093bfae1db63a4e0e', 'success', 'req_f6e9b72e7f5147dd9e33f496f40d2e81', '127.0.0.1', '{}', 1796173611232751, '6bd49d07424c97c223992b9873690b7c5ee01683693c7a6583d4ade2d3c893da', '95d49309008b91e9b2b63173c204a823c346d12e1f2e7a7a6ac8aa38953d8dc7');
INSERT INTO public.audit_events VALUES (9, 'aud_01a2344a40f677b7918351cba339fcaa', 'key_01a2344a12f3754fb663c5c6be37e901', 'transfer.create', 'transfer', 'tr_01a2344a40f1714082b2af6fb80cac3a', 'success', 'req_48e54e02c9404df6b16647cd5c13a928', '127.0.0.1', '{}', 1796173611252278, '95d49309008b91e9b2b63173c204a823c346d12e1f2e7a7a6ac8aa38953d8dc7', 'de28dafc911d937425f42e7d01665c1ae96064f015764e8849b144da45e43a1d');
INSERT INTO public.audit_events VALUES (10, 'aud_01a2344a411374eb8acd5212e9984dbe', 'key_01a2344a12f3754fb663c5c6be37e901', 'transfer.post', 'transfer', 'tr_01a2344a40f1714082b2af6fb80cac3a', 'success', 'req_70d0f1dc44184a5f85bdbc68e29e53c3', '127.0.0.1', '{}', 1796173611275185, 'de28dafc911d937425f42e7d01665c1ae96064f015764e8849b144da45e43a1d', 'ba8f0e68ce809cca79276a0941704b3b7fe470f4c8cf9a7e2ecf5d94c31f2975');
INSERT INTO public.audit_events VALUES (11, 'aud_01a2344a412277158fa91e244ad61264', 'key_01a2344a12f3754fb663c5c6be37e901', 'journal_entry.create', 'journal_entry', 'je_01a2344a411f7690a771a851feee8260', 'success', 'req_003381cb6cb04c4cb3c34f1004f8336c', '127.0.0.1', '{}', 1796173611296284, 'ba8f0e68ce809cca79276a0941704b3b7fe470f4c8cf9a7e2ecf5d94c31f2975', '20dd090af1ba9852b4ef64b62ec354b12d5dbc8095a3759b44e2483ce10414d7');
INSERT INTO public.audit_events VALUES (12, 'aud_01a2344a41327519a59bf3421e3c354a', 'key_01a2344a12f3754fb663c5c6be37e901', 'risk_rule.create', 'risk_rule', 'big', 'success', 'req_a8c5f44486ad4ed493f82e3c0285cc93', '127.0.0.1', '{}', 1796173611312461, '20dd090af1ba9852b4ef64b62ec354b12d5dbc8095a3759b44e2483ce10414d7', '0123051e0c3b9e12d45c5f3731d825dddfae3eae81e174de1afbcd475dba1287');
INSERT INTO public.audit_events VALUES (13, 'aud_01a2344a41447101a2d95d46b9f2bc4a', 'key_01a2344a12f3754fb663c5c6be37e901', 'risk_rule.create', 'risk_rule', 'huge', 'success', 'req_f317026fae684d9da586533cfb5ba3dc', '127.0.0.1', '{}', 1796173611329171, '0123051e0c3b9e12d45c5f3731d825dddfae3eae81e174de1afbcd475dba1287', '7171698f8db7464dfeef10b530f55ce615ac3162481c0d83686dfdbe9fe08355');
INSERT INTO public.audit_events VALUES (14, 'aud_01a2344a41537118b8ad012c801e5132', 'key_01a2344a12f3754fb663c5c6be37e901', 'risk_rule.create', 'risk_rule', 'evil', 'success', 'req_29a9fba0834049aa9048a1ddee76aab8', '127.0.0.1', '{}', 1796173611346055, '7171698f8db7464dfeef10b530f55ce615ac3162481c0d83686dfdbe9fe08355', '79e624a3132c5149e841aa43c75b8d3c04e261d3b2c39a63f79c23940efdfef2');
INSERT INTO public.audit_events VALUES (15, 'aud_01a2344a417172e1ae2f8c45b090de15', 'key_01a2344a12f3754fb663c5c6be37e901', 'payment.create', 'payment', 'pay_01a2344a41627668b3324bbc56238581', 'success', 'req_855043d938e94e2dbc51cb221f346e37', '127.0.0.1', '{}', 1796173611362894, '79e624a3132c5149e841aa43c75b8d3c04e261d3b2c39a63f79c23940efdfef2', '1899cb93d19ca11dd15a33d3d2394387cc144c84b28d1a71ef077cba4177ef15');
INSERT INTO public.audit_events VALUES (16, 'aud_01a2344a418b739e8d19de721727c31c', 'key_01a2344a12f3754fb663c5c6be37e901', 'payment.create', 'payment', 'pay_01a2344a41817115a311eab6fd8f4c7e', 'success', 'req_33d1fa57b9fc474caab5deeaecd27327', '127.0.0.1', '{}', 1796173611394169, '1899cb93d19ca11dd15a33d3d2394387cc144c84b28d1a71ef077cba4177ef15', 'c7c224551ed0cc0dbeb32c4ebd850096470971b65c9281b266284285ec94242d');
INSERT INTO public.audit_events VALUES (17, 'aud_01a2344a41a87475b9779b95b90200ba', 'key_01a2344a12f3754fb663c5c6be37e901', 'payment.create', 'payment', 'pay_01a2344a419a7257b2aee70de7cf2999', 'success', 'req_bb47861b33244104b06a100d13fcb1e3', '127.0.0.1', '{}', 1796173611421941, 'c7c224551ed0cc0dbeb32c4ebd850096470971b65c9281b266284285ec94242d', '8b8708279012bf5f0151de21a627b934a615c1a4f8200c37580b5008431af401');
INSERT INTO public.audit_events VALUES (18, 'aud_01a2344a41c87492b48157168b40c6cc', 'key_01a2344a12f3754fb663c5c6be37e901', 'payment.create', 'payment', 'pay_01a2344a41b974c6a379a5150e9f5a53', 'success', 'req_03cdda107fd64a018e449a6eeeb35a67', '127.0.0.1', '{}', 1796173611450968, '8b8708279012bf5f0151de21a627b934a615c1a4f8200c37580b5008431af401', '823544edcac8d19ea40da4217abd76e205fa1f9b2cc21c395d9e7597978c1013');
INSERT INTO public.audit_events VALUES (19, 'aud_01a2344a41df72f191537d8ec6d62447', 'key_01a2344a12f3754fb663c5c6be37e901', 'payment.refund', 'payment', 'pay_01a2344a41627668b3324bbc56238581', 'success', 'req_a1eec50086a44ca88e144a5bfa325cd9', '127.0.0.1', '{}', 1796173611482955, '823544edcac8d19ea40da4217abd76e205fa1f9b2cc21c395d9e7597978c1013', '862a4aab681cb67fe2b370a712fc114c5eb06ad02e7873ee06d36592b4b896f6');
INSERT INTO public.audit_events VALUES (20, 'aud_01a2344a41f476b3b959163128ab241e', 'key_01a2344a12f3754fb663c5c6be37e901', 'payment.label', 'payment', 'pay_01a2344a41627668b3324bbc56238581', 'success', 'req_c5c05b07dec143909e2dca9b0b7a1e7a', '127.0.0.1', '{"label":"legitimate","note":null,"source":"manual"}', 1796173611501829, '862a4aab681cb67fe2b370a712fc114c5eb06ad02e7873ee06d36592b4b896f6', 'b7011295ef7f7e2e4de86e388811aa457b7d5b241648babf7a7a83e186a8c598');
INSERT INTO public.audit_events VALUES (21, 'aud_01a2344a4210763b9dd6930bae7f972e', 'key_01a2344a12f3754fb663c5c6be37e901', 'settlement.run', 'account', 'acct_01a2344a4067731dbba39779baba223a', 'success', 'req_99391a15ed724623988a28b5a2df2932', '127.0.0.1', '{}', 1796173611529324, 'b7011295ef7f7e2e4de86e388811aa457b7d5b241648babf7a7a83e186a8c598', '5d07b14c882c116b7bce2c0d4da3e83d6f82bf403704dccb97d2405c7c41f83b');
INSERT INTO public.audit_events VALUES (22, 'aud_01a2344a4223762fa6f1b7a269297008', 'key_01a2344a12f3754fb663c5c6be37e901', 'api_key.create', 'api_key', 'key_01a2344a422076e599f3363b7115c996', 'success', 'req_672c4d2f5947443598931f11dd2a497f', '127.0.0.1', '{}', 1796173611553878, '5d07b14c882c116b7bce2c0d4da3e83d6f82bf403704dccb97d2405c7c41f83b', '414c99417d2949ab6616c8078de059d095bd0315d1a601cd47e2ece8fbfcb54a');


--
-- Data for Name: clearings; Type: TABLE DATA; Schema: public; Owner: -
--

INSERT INTO public.clearings VALUES ('clr_01a2344a416d7164994670d6bf5fb9ce', 'pay_01a2344a41627668b3324bbc56238581', 'acct_01a2344a4067731dbba39779baba223a', 'USD', 'completed', 1000, 'stl_01a2344a420c73d5ba787c719225e36f', 1796173611362894, 1796173611529324);


--
-- Data for Name: credit_scores; Type: TABLE DATA; Schema: public; Owner: -
--



--
-- Data for Name: entries; Type: TABLE DATA; Schema: public; Owner: -
--

INSERT INTO public.entries VALUES (1, 'acct_01a2344a40277485a8bb70794dcbd89b', 'tr_01a2344a409d7411837d94571f8b006f', NULL, 'debit', 500000, 'USD', -500000, 1796173611165726);
INSERT INTO public.entries VALUES (2, 'acct_01a2344a404877ca9c9668405684e671', 'tr_01a2344a409d7411837d94571f8b006f', NULL, 'credit', 500000, 'USD', 500000, 1796173611165726);
INSERT INTO public.entries VALUES (3, 'acct_01a2344a40277485a8bb70794dcbd89b', 'tr_01a2344a40f1714082b2af6fb80cac3a', NULL, 'debit', 900, 'USD', -500900, 1796173611275185);
INSERT INTO public.entries VALUES (4, 'acct_01a2344a404877ca9c9668405684e671', 'tr_01a2344a40f1714082b2af6fb80cac3a', NULL, 'credit', 900, 'USD', 500900, 1796173611275185);
INSERT INTO public.entries VALUES (5, 'acct_01a2344a40277485a8bb70794dcbd89b', NULL, 'je_01a2344a411f7690a771a851feee8260', 'debit', 300, 'USD', -501200, 1796173611296284);
INSERT INTO public.entries VALUES (6, 'acct_01a2344a4067731dbba39779baba223a', NULL, 'je_01a2344a411f7690a771a851feee8260', 'credit', 300, 'USD', 300, 1796173611296284);
INSERT INTO public.entries VALUES (7, 'acct_01a2344a404877ca9c9668405684e671', 'tr_01a2344a41627668b3324bbde969bf76', NULL, 'debit', 1000, 'USD', 499900, 1796173611362894);
INSERT INTO public.entries VALUES (8, 'acct_01a2344a4067731dbba39779baba223a', 'tr_01a2344a41627668b3324bbde969bf76', NULL, 'credit', 1000, 'USD', 1300, 1796173611362894);
INSERT INTO public.entries VALUES (9, 'acct_01a2344a4067731dbba39779baba223a', 'tr_01a2344a41d971b7a4818adf5f607636', NULL, 'debit', 400, 'USD', 900, 1796173611482955);
INSERT INTO public.entries VALUES (10, 'acct_01a2344a404877ca9c9668405684e671', 'tr_01a2344a41d971b7a4818adf5f607636', NULL, 'credit', 400, 'USD', 500300, 1796173611482955);
INSERT INTO public.entries VALUES (11, 'acct_01a2344a4067731dbba39779baba223a', NULL, 'je_01a2344a420c73d5ba787c74fca0fa78', 'debit', 600, 'USD', 300, 1796173611529324);
INSERT INTO public.entries VALUES (12, 'acct_01a2344a420c73d5ba787c72662fa3e2', NULL, 'je_01a2344a420c73d5ba787c74fca0fa78', 'credit', 48, 'USD', 48, 1796173611529324);
INSERT INTO public.entries VALUES (13, 'acct_01a2344a420c73d5ba787c7372662158', NULL, 'je_01a2344a420c73d5ba787c74fca0fa78', 'credit', 552, 'USD', 552, 1796173611529324);


--
-- Data for Name: events; Type: TABLE DATA; Schema: public; Owner: -
--

INSERT INTO public.events VALUES (1, 'evt_01a2344a401471d1820e0f081346e843', 'user.created', 'user', 'user_01a2344a400c7587a0eee08df378611e', '{"created_at":"2026-12-02T01:06:51.024468Z","email":"alice@example.com","id":"user_01a2344a400c7587a0eee08df378611e","kyc_status":"pending","name":"Alice","object":"user","phone":null,"role":"customer","status":"active","updated_at":"2026-12-02T01:06:51.024468Z"}', 'req_b4389c9f39bb4922bc7696a4a0714f31', 1796173611024468);
INSERT INTO public.events VALUES (2, 'evt_01a2344a402c72ec96bdcad70eacf4b0', 'account.created', 'account', 'acct_01a2344a40277485a8bb70794dcbd89b', '{"allow_negative_balance":true,"balance":{"available":0,"pending_credits":0,"pending_debits":0,"posted":0},"created_at":"2026-12-02T01:06:51.048475Z","currency":"USD","id":"acct_01a2344a40277485a8bb70794dcbd89b","metadata":{},"name":"funding","object":"account","status":"active","totals":{"credits_posted":0,"debits_posted":0},"updated_at":"2026-12-02T01:06:51.048475Z","user_id":null}', 'req_9200f83b7ec94b34973f068bd3531901', 1796173611048475);
INSERT INTO public.events VALUES (3, 'evt_01a2344a4052738f8cc0796fedd44a3d', 'account.created', 'account', 'acct_01a2344a404877ca9c9668405684e671', '{"allow_negative_balance":false,"balance":{"available":0,"pending_credits":0,"pending_debits":0,"posted":0},"created_at":"2026-12-02T01:06:51.086021Z","currency":"USD","id":"acct_01a2344a404877ca9c9668405684e671","metadata":{},"name":"alice","object":"account","status":"active","totals":{"credits_posted":0,"debits_posted":0},"updated_at":"2026-12-02T01:06:51.086021Z","user_id":"user_01a2344a400c7587a0eee08df378611e"}', 'req_1a8588ac7f0044c4b0a13d9d2365d35e', 1796173611086021);
INSERT INTO public.events VALUES (4, 'evt_01a2344a406c75b786ec1d70f34a620d', 'account.created', 'account', 'acct_01a2344a4067731dbba39779baba223a', '{"allow_negative_balance":false,"balance":{"available":0,"pending_credits":0,"pending_debits":0,"posted":0},"created_at":"2026-12-02T01:06:51.11283Z","currency":"USD","id":"acct_01a2344a4067731dbba39779baba223a","metadata":{},"name":"shop","object":"account","status":"active","totals":{"credits_posted":0,"debits_posted":0},"updated_at":"2026-12-02T01:06:51.11283Z","user_id":null}', 'req_919224990fff4db8acec82d559bd610f', 1796173611112830);
INSERT INTO public.events VALUES (5, 'evt_01a2344a408877ca8b893b241a33c36b', 'account.created', 'account', 'acct_01a2344a408376a7a3a3d933a31aa0bc', '{"allow_negative_balance":true,"balance":{"available":0,"pending_credits":0,"pending_debits":0,"posted":0},"created_at":"2026-12-02T01:06:51.13988Z","currency":"EUR","id":"acct_01a2344a408376a7a3a3d933a31aa0bc","metadata":{},"name":null,"object":"account","status":"active","totals":{"credits_posted":0,"debits_posted":0},"updated_at":"2026-12-02T01:06:51.13988Z","user_id":null}', 'req_e0cd0656ebf749d8870f0b966d5112b1', 1796173611139880);
INSERT INTO public.events VALUES (6, 'evt_01a2344a40ad76438919efcfadba8131', 'transfer.posted', 'transfer', 'tr_01a2344a409d7411837d94571f8b006f', '{"amount":500000,"created_at":"2026-12-02T01:06:51.165726Z","currency":"USD","description":null,"destination_account_id":"acct_01a2344a404877ca9c9668405684e671","expires_at":null,"id":"tr_01a2344a409d7411837d94571f8b006f","metadata":{},"object":"transfer","pending":false,"posted_amount":500000,"reference":null,"reversal_of":null,"reversed_by":null,"source_account_id":"acct_01a2344a40277485a8bb70794dcbd89b","status":"posted","updated_at":"2026-12-02T01:06:51.165726Z"}', 'req_bb35ccffbbd6405d9b05fa8705741226', 1796173611165726);
INSERT INTO public.events VALUES (7, 'evt_01a2344a40c5736496cee071e01e5a0e', 'transfer.pending', 'transfer', 'tr_01a2344a40c2715093bfae1db63a4e0e', '{"amount":700,"created_at":"2026-12-02T01:06:51.2028Z","currency":"USD","description":null,"destination_account_id":"acct_01a2344a404877ca9c9668405684e671","expires_at":"2026-12-02T02:06:51.202431Z","id":"tr_01a2344a40c2715093bfae1db63a4e0e","metadata":{},"object":"transfer","pending":true,"posted_amount":0,"reference":null,"reversal_of":null,"reversed_by":null,"source_account_id":"acct_01a2344a40277485a8bb70794dcbd89b","status":"pending","updated_at":"2026-12-02T01:06:51.2028Z"}', 'req_3d244568b8984a3396dc777938348fc2', 1796173611202800);
INSERT INTO public.events VALUES (8, 'evt_01a2344a40e2704ca8268931efe61d27', 'transfer.voided', 'transfer', 'tr_01a2344a40c2715093bfae1db63a4e0e', '{"amount":700,"created_at":"2026-12-02T01:06:51.2028Z","currency":"USD","description":null,"destination_account_id":"acct_01a2344a404877ca9c9668405684e671","expires_at":"2026-12-02T02:06:51.202431Z","id":"tr_01a2344a40c2715093bfae1db63a4e0e","metadata":{},"object":"transfer","pending":true,"posted_amount":0,"reference":null,"reversal_of":null,"reversed_by":null,"source_account_id":"acct_01a2344a40277485a8bb70794dcbd89b","status":"voided","updated_at":"2026-12-02T01:06:51.232751Z"}', 'req_f6e9b72e7f5147dd9e33f496f40d2e81', 1796173611232751);
INSERT INTO public.events VALUES (9, 'evt_01a2344a40f677b7918351cae8e7dc8e', 'transfer.pending', 'transfer', 'tr_01a2344a40f1714082b2af6fb80cac3a', '{"amount":900,"created_at":"2026-12-02T01:06:51.252278Z","currency":"USD","description":null,"destination_account_id":"acct_01a2344a404877ca9c9668405684e671","expires_at":"2026-12-02T02:06:51.249657Z","id":"tr_01a2344a40f1714082b2af6fb80cac3a","metadata":{},"object":"transfer","pending":true,"posted_amount":0,"reference":null,"reversal_of":null,"reversed_by":null,"source_account_id":"acct_01a2344a40277485a8bb70794dcbd89b","status":"pending","updated_at":"2026-12-02T01:06:51.252278Z"}', 'req_48e54e02c9404df6b16647cd5c13a928', 1796173611252278);
INSERT INTO public.events VALUES (10, 'evt_01a2344a411374eb8acd5211ba60eaa8', 'transfer.posted', 'transfer', 'tr_01a2344a40f1714082b2af6fb80cac3a', '{"amount":900,"created_at":"2026-12-02T01:06:51.252278Z","currency":"USD","description":null,"destination_account_id":"acct_01a2344a404877ca9c9668405684e671","expires_at":"2026-12-02T02:06:51.249657Z","id":"tr_01a2344a40f1714082b2af6fb80cac3a","metadata":{},"object":"transfer","pending":true,"posted_amount":900,"reference":null,"reversal_of":null,"reversed_by":null,"source_account_id":"acct_01a2344a40277485a8bb70794dcbd89b","status":"posted","updated_at":"2026-12-02T01:06:51.275185Z"}', 'req_70d0f1dc44184a5f85bdbc68e29e53c3', 1796173611275185);
INSERT INTO public.events VALUES (11, 'evt_01a2344a412277158fa91e23abafe710', 'journal_entry.posted', 'journal_entry', 'je_01a2344a411f7690a771a851feee8260', '{"created_at":"2026-12-02T01:06:51.296284Z","description":"fixture","id":"je_01a2344a411f7690a771a851feee8260","lines":[{"account_id":"acct_01a2344a40277485a8bb70794dcbd89b","amount":300,"balance_after":-501200,"currency":"USD","direction":"debit"},{"account_id":"acct_01a2344a4067731dbba39779baba223a","amount":300,"balance_after":300,"currency":"USD","direction":"credit"}],"metadata":{},"object":"journal_entry"}', 'req_003381cb6cb04c4cb3c34f1004f8336c', 1796173611296284);
INSERT INTO public.events VALUES (12, 'evt_01a2344a417172e1ae2f8c44d2c74399', 'payment.completed', 'payment', 'pay_01a2344a41627668b3324bbc56238581', '{"amount":1000,"amount_refunded":0,"context":{"device_id":"dev-1","ip_address":"203.0.113.9","location":{"country":"DE","lat":52.5,"lon":13.4}},"created_at":"2026-12-02T01:06:51.362894Z","currency":"USD","description":null,"destination_account_id":"acct_01a2344a4067731dbba39779baba223a","failure_code":null,"failure_reason":null,"history":[{"at":"2026-12-02T01:06:51.362894Z","from":null,"reason":"created","to":"pending"},{"at":"2026-12-02T01:06:51.362894Z","from":"pending","reason":"gates","to":"processing"},{"at":"2026-12-02T01:06:51.362894Z","from":"processing","reason":"all gates passed","to":"completed"}],"id":"pay_01a2344a41627668b3324bbc56238581","metadata":{},"method":"card","object":"payment","reference":null,"refunds":[],"risk_assessment_id":"ra_01a2344a416d7164994670d5c7d929bb","source_account_id":"acct_01a2344a404877ca9c9668405684e671","status":"completed","transfer_id":"tr_01a2344a41627668b3324bbde969bf76","type":"transfer","updated_at":"2026-12-02T01:06:51.362894Z","user_id":"user_01a2344a400c7587a0eee08df378611e"}', 'req_855043d938e94e2dbc51cb221f346e37', 1796173611362894);
INSERT INTO public.events VALUES (13, 'evt_01a2344a418b739e8d19de709d775818', 'risk.alert', 'payment', 'pay_01a2344a41817115a311eab6fd8f4c7e', '{"assessment_id":"ra_01a2344a41877749830c42698b167896","decision":"review","object":"risk_alert","payment_id":"pay_01a2344a41817115a311eab6fd8f4c7e","rules":["big"],"score":40,"user_id":"user_01a2344a400c7587a0eee08df378611e"}', NULL, 1796173611394169);
INSERT INTO public.events VALUES (14, 'evt_01a2344a418b739e8d19de71b697b860', 'payment.requires_review', 'payment', 'pay_01a2344a41817115a311eab6fd8f4c7e', '{"amount":25000,"amount_refunded":0,"context":{"device_id":"dev-1","ip_address":"203.0.113.9","location":{"country":"DE","lat":52.5,"lon":13.4}},"created_at":"2026-12-02T01:06:51.394169Z","currency":"USD","description":null,"destination_account_id":"acct_01a2344a4067731dbba39779baba223a","failure_code":null,"failure_reason":null,"history":[{"at":"2026-12-02T01:06:51.394169Z","from":null,"reason":"created","to":"pending"},{"at":"2026-12-02T01:06:51.394169Z","from":"pending","reason":"gates","to":"processing"},{"at":"2026-12-02T01:06:51.394169Z","from":"processing","reason":"score 40 is medium","to":"requires_review"}],"id":"pay_01a2344a41817115a311eab6fd8f4c7e","metadata":{},"method":"card","object":"payment","reference":null,"refunds":[],"risk_assessment_id":"ra_01a2344a41877749830c42698b167896","source_account_id":"acct_01a2344a404877ca9c9668405684e671","status":"requires_review","transfer_id":"tr_01a2344a41817115a311eab7ce1cb671","type":"transfer","updated_at":"2026-12-02T01:06:51.394169Z","user_id":"user_01a2344a400c7587a0eee08df378611e"}', 'req_33d1fa57b9fc474caab5deeaecd27327', 1796173611394169);
INSERT INTO public.events VALUES (15, 'evt_01a2344a41a87475b9779b948b729698', 'payment.failed', 'payment', 'pay_01a2344a419a7257b2aee70de7cf2999', '{"amount":500,"amount_refunded":0,"context":{"device_id":"evil","ip_address":"203.0.113.9","location":{"country":"DE","lat":52.5,"lon":13.4}},"created_at":"2026-12-02T01:06:51.421941Z","currency":"USD","description":null,"destination_account_id":"acct_01a2344a4067731dbba39779baba223a","failure_code":"risk_blocked","failure_reason":"rule `evil` asks to block","history":[{"at":"2026-12-02T01:06:51.421941Z","from":null,"reason":"created","to":"pending"},{"at":"2026-12-02T01:06:51.421941Z","from":"pending","reason":"gates","to":"processing"},{"at":"2026-12-02T01:06:51.421941Z","from":"processing","reason":"risk_blocked: rule `evil` asks to block","to":"failed"}],"id":"pay_01a2344a419a7257b2aee70de7cf2999","metadata":{},"method":"card","object":"payment","reference":null,"refunds":[],"risk_assessment_id":"ra_01a2344a41a47685bba1b7616f639299","source_account_id":"acct_01a2344a404877ca9c9668405684e671","status":"failed","transfer_id":null,"type":"transfer","updated_at":"2026-12-02T01:06:51.421941Z","user_id":"user_01a2344a400c7587a0eee08df378611e"}', 'req_bb47861b33244104b06a100d13fcb1e3', 1796173611421941);
INSERT INTO public.events VALUES (16, 'evt_01a2344a41c87492b4815714285ad1a9', 'risk.alert', 'payment', 'pay_01a2344a41b974c6a379a5150e9f5a53', '{"assessment_id":"ra_01a2344a41c374c1b8c87f0b6ed8d60b","decision":"reject","object":"risk_alert","payment_id":"pay_01a2344a41b974c6a379a5150e9f5a53","rules":["big"],"score":40,"user_id":"user_01a2344a400c7587a0eee08df378611e"}', NULL, 1796173611450968);
INSERT INTO public.events VALUES (17, 'evt_01a2344a41c87492b48157155bc893a3', 'payment.failed', 'payment', 'pay_01a2344a41b974c6a379a5150e9f5a53', '{"amount":95000,"amount_refunded":0,"context":{"device_id":"dev-1","ip_address":"203.0.113.9","location":{"country":"DE","lat":52.5,"lon":13.4}},"created_at":"2026-12-02T01:06:51.450968Z","currency":"USD","description":null,"destination_account_id":"acct_01a2344a4067731dbba39779baba223a","failure_code":"risk_rejected","failure_reason":"rule `huge` asks to reject","history":[{"at":"2026-12-02T01:06:51.450968Z","from":null,"reason":"created","to":"pending"},{"at":"2026-12-02T01:06:51.450968Z","from":"pending","reason":"gates","to":"processing"},{"at":"2026-12-02T01:06:51.450968Z","from":"processing","reason":"risk_rejected: rule `huge` asks to reject","to":"failed"}],"id":"pay_01a2344a41b974c6a379a5150e9f5a53","metadata":{},"method":"card","object":"payment","reference":null,"refunds":[],"risk_assessment_id":"ra_01a2344a41c374c1b8c87f0b6ed8d60b","source_account_id":"acct_01a2344a404877ca9c9668405684e671","status":"failed","transfer_id":null,"type":"transfer","updated_at":"2026-12-02T01:06:51.450968Z","user_id":"user_01a2344a400c7587a0eee08df378611e"}', 'req_03cdda107fd64a018e449a6eeeb35a67', 1796173611450968);
INSERT INTO public.events VALUES (18, 'evt_01a2344a41df72f191537d8d649500a3', 'refund.created', 'payment', 'pay_01a2344a41627668b3324bbc56238581', '{"amount":400,"created_at":"2026-12-02T01:06:51.482955Z","id":"re_01a2344a41d971b7a4818ade1d6ae2cf","object":"refund","payment":{"amount":1000,"amount_refunded":400,"context":{"device_id":"dev-1","ip_address":"203.0.113.9","location":{"country":"DE","lat":52.5,"lon":13.4}},"created_at":"2026-12-02T01:06:51.362894Z","currency":"USD","description":null,"destination_account_id":"acct_01a2344a4067731dbba39779baba223a","failure_code":null,"failure_reason":null,"history":[{"at":"2026-12-02T01:06:51.362894Z","from":null,"reason":"created","to":"pending"},{"at":"2026-12-02T01:06:51.362894Z","from":"pending","reason":"gates","to":"processing"},{"at":"2026-12-02T01:06:51.362894Z","from":"processing","reason":"all gates passed","to":"completed"},{"at":"2026-12-02T01:06:51.482955Z","from":"completed","reason":"refund re_01a2344a41d971b7a4818ade1d6ae2cf of 400","to":"partially_refunded"}],"id":"pay_01a2344a41627668b3324bbc56238581","metadata":{},"method":"card","object":"payment","reference":null,"refunds":[{"amount":400,"created_at":"2026-12-02T01:06:51.482955Z","id":"re_01a2344a41d971b7a4818ade1d6ae2cf","object":"refund","payment_id":"pay_01a2344a41627668b3324bbc56238581","reason":null,"transfer_id":"tr_01a2344a41d971b7a4818adf5f607636"}],"risk_assessment_id":"ra_01a2344a416d7164994670d5c7d929bb","source_account_id":"acct_01a2344a404877ca9c9668405684e671","status":"partially_refunded","transfer_id":"tr_01a2344a41627668b3324bbde969bf76","type":"transfer","updated_at":"2026-12-02T01:06:51.482955Z","user_id":"user_01a2344a400c7587a0eee08df378611e"},"payment_id":"pay_01a2344a41627668b3324bbc56238581","reason":null,"transfer_id":"tr_01a2344a41d971b7a4818adf5f607636"}', 'req_a1eec50086a44ca88e144a5bfa325cd9', 1796173611482955);
INSERT INTO public.events VALUES (19, 'evt_01a2344a41f476b3b9591630d23f96d3', 'payment.labeled', 'payment', 'pay_01a2344a41627668b3324bbc56238581', '{"actor":"key_01a2344a12f3754fb663c5c6be37e901","created_at":"2026-12-02T01:06:51.501829Z","id":"lbl_01a2344a41ed7727901103f91ca9e2c5","label":"legitimate","note":null,"object":"payment_label","payment_id":"pay_01a2344a41627668b3324bbc56238581","source":"manual"}', 'req_c5c05b07dec143909e2dca9b0b7a1e7a', 1796173611501829);
INSERT INTO public.events VALUES (20, 'evt_01a2344a4210763b9dd6930a01b68380', 'settlement.completed', 'settlement', 'stl_01a2344a420c73d5ba787c719225e36f', '{"data":[{"created_at":"2026-12-02T01:06:51.529324Z","currency":"USD","destination_account_id":"acct_01a2344a4067731dbba39779baba223a","failure_reason":null,"fees":48,"gross":600,"id":"stl_01a2344a420c73d5ba787c719225e36f","journal_entry_id":"je_01a2344a420c73d5ba787c74fca0fa78","net":552,"object":"settlement","payment_count":1,"payments":[{"amount":600,"payment_id":"pay_01a2344a41627668b3324bbc56238581"}],"status":"completed"}],"has_more":false,"object":"list"}', 'req_99391a15ed724623988a28b5a2df2932', 1796173611529324);


--
-- Data for Name: idempotency_keys; Type: TABLE DATA; Schema: public; Owner: -
--



--
-- Data for Name: journal_entries; Type: TABLE DATA; Schema: public; Owner: -
--

INSERT INTO public.journal_entries VALUES ('je_01a2344a411f7690a771a851feee8260', 'fixture', '{}', 1796173611296284);
INSERT INTO public.journal_entries VALUES ('je_01a2344a420c73d5ba787c74fca0fa78', 'settlement stl_01a2344a420c73d5ba787c719225e36f', '{"settlement_id":"stl_01a2344a420c73d5ba787c719225e36f"}', 1796173611529324);


--
-- Data for Name: ledger_heads; Type: TABLE DATA; Schema: public; Owner: -
--

INSERT INTO public.ledger_heads VALUES (1, 20, 22, '414c99417d2949ab6616c8078de059d095bd0315d1a601cd47e2ece8fbfcb54a');


--
-- Data for Name: payment_labels; Type: TABLE DATA; Schema: public; Owner: -
--

INSERT INTO public.payment_labels VALUES ('lbl_01a2344a41ed7727901103f91ca9e2c5', 'pay_01a2344a41627668b3324bbc56238581', 'legitimate', 'manual', NULL, 'key_01a2344a12f3754fb663c5c6be37e901', 1796173611501829);


--
-- Data for Name: payment_transitions; Type: TABLE DATA; Schema: public; Owner: -
--

INSERT INTO public.payment_transitions VALUES ('pay_01a2344a41627668b3324bbc56238581', 1, NULL, 'pending', 'created', 1796173611362894);
INSERT INTO public.payment_transitions VALUES ('pay_01a2344a41627668b3324bbc56238581', 2, 'pending', 'processing', 'gates', 1796173611362894);
INSERT INTO public.payment_transitions VALUES ('pay_01a2344a41627668b3324bbc56238581', 3, 'processing', 'completed', 'all gates passed', 1796173611362894);
INSERT INTO public.payment_transitions VALUES ('pay_01a2344a41817115a311eab6fd8f4c7e', 1, NULL, 'pending', 'created', 1796173611394169);
INSERT INTO public.payment_transitions VALUES ('pay_01a2344a41817115a311eab6fd8f4c7e', 2, 'pending', 'processing', 'gates', 1796173611394169);
INSERT INTO public.payment_transitions VALUES ('pay_01a2344a41817115a311eab6fd8f4c7e', 3, 'processing', 'requires_review', 'score 40 is medium', 1796173611394169);
INSERT INTO public.payment_transitions VALUES ('pay_01a2344a419a7257b2aee70de7cf2999', 1, NULL, 'pending', 'created', 1796173611421941);
INSERT INTO public.payment_transitions VALUES ('pay_01a2344a419a7257b2aee70de7cf2999', 2, 'pending', 'processing', 'gates', 1796173611421941);
INSERT INTO public.payment_transitions VALUES ('pay_01a2344a419a7257b2aee70de7cf2999', 3, 'processing', 'failed', 'risk_blocked: rule `evil` asks to block', 1796173611421941);
INSERT INTO public.payment_transitions VALUES ('pay_01a2344a41b974c6a379a5150e9f5a53', 1, NULL, 'pending', 'created', 1796173611450968);
INSERT INTO public.payment_transitions VALUES ('pay_01a2344a41b974c6a379a5150e9f5a53', 2, 'pending', 'processing', 'gates', 1796173611450968);
INSERT INTO public.payment_transitions VALUES ('pay_01a2344a41b974c6a379a5150e9f5a53', 3, 'processing', 'failed', 'risk_rejected: rule `huge` asks to reject', 1796173611450968);
INSERT INTO public.payment_transitions VALUES ('pay_01a2344a41627668b3324bbc56238581', 4, 'completed', 'partially_refunded', 'refund re_01a2344a41d971b7a4818ade1d6ae2cf of 400', 1796173611482955);


--
-- Data for Name: payments; Type: TABLE DATA; Schema: public; Owner: -
--

INSERT INTO public.payments VALUES ('pay_01a2344a41817115a311eab6fd8f4c7e', 'user_01a2344a400c7587a0eee08df378611e', 'acct_01a2344a404877ca9c9668405684e671', 'acct_01a2344a4067731dbba39779baba223a', 25000, 'USD', 'transfer', 'card', 'requires_review', 0, 'tr_01a2344a41817115a311eab7ce1cb671', NULL, NULL, '{}', '{"device_id":"dev-1","ip_address":"203.0.113.9","location":{"country":"DE","lat":52.5,"lon":13.4}}', NULL, NULL, 1796173611394169, 1796173611394169, 'dev-1', '203.0.113.9', 'DE', NULL, 'ra_01a2344a41877749830c42698b167896');
INSERT INTO public.payments VALUES ('pay_01a2344a419a7257b2aee70de7cf2999', 'user_01a2344a400c7587a0eee08df378611e', 'acct_01a2344a404877ca9c9668405684e671', 'acct_01a2344a4067731dbba39779baba223a', 500, 'USD', 'transfer', 'card', 'failed', 0, NULL, NULL, NULL, '{}', '{"device_id":"evil","ip_address":"203.0.113.9","location":{"country":"DE","lat":52.5,"lon":13.4}}', 'risk_blocked', 'rule `evil` asks to block', 1796173611421941, 1796173611421941, 'evil', '203.0.113.9', 'DE', NULL, 'ra_01a2344a41a47685bba1b7616f639299');
INSERT INTO public.payments VALUES ('pay_01a2344a41b974c6a379a5150e9f5a53', 'user_01a2344a400c7587a0eee08df378611e', 'acct_01a2344a404877ca9c9668405684e671', 'acct_01a2344a4067731dbba39779baba223a', 95000, 'USD', 'transfer', 'card', 'failed', 0, NULL, NULL, NULL, '{}', '{"device_id":"dev-1","ip_address":"203.0.113.9","location":{"country":"DE","lat":52.5,"lon":13.4}}', 'risk_rejected', 'rule `huge` asks to reject', 1796173611450968, 1796173611450968, 'dev-1', '203.0.113.9', 'DE', NULL, 'ra_01a2344a41c374c1b8c87f0b6ed8d60b');
INSERT INTO public.payments VALUES ('pay_01a2344a41627668b3324bbc56238581', 'user_01a2344a400c7587a0eee08df378611e', 'acct_01a2344a404877ca9c9668405684e671', 'acct_01a2344a4067731dbba39779baba223a', 1000, 'USD', 'transfer', 'card', 'partially_refunded', 400, 'tr_01a2344a41627668b3324bbde969bf76', NULL, NULL, '{}', '{"device_id":"dev-1","ip_address":"203.0.113.9","location":{"country":"DE","lat":52.5,"lon":13.4}}', NULL, NULL, 1796173611362894, 1796173611482955, 'dev-1', '203.0.113.9', 'DE', NULL, 'ra_01a2344a416d7164994670d5c7d929bb');


--
-- Data for Name: refunds; Type: TABLE DATA; Schema: public; Owner: -
--

INSERT INTO public.refunds VALUES ('re_01a2344a41d971b7a4818ade1d6ae2cf', 'pay_01a2344a41627668b3324bbc56238581', 400, 'tr_01a2344a41d971b7a4818adf5f607636', NULL, 1796173611482955);


--
-- Data for Name: relay_cursors; Type: TABLE DATA; Schema: public; Owner: -
--



--
-- Data for Name: risk_assessments; Type: TABLE DATA; Schema: public; Owner: -
--

INSERT INTO public.risk_assessments VALUES ('ra_01a2344a416d7164994670d5c7d929bb', 'pay_01a2344a41627668b3324bbc56238581', 'user_01a2344a400c7587a0eee08df378611e', 0, 'low', 'approve', 'score 0 is low', '[]', 1796173611362894, '{"flags":[],"notified":[],"require_2fa":false,"time_zone":"UTC","time_zone_offset_seconds":0}');
INSERT INTO public.risk_assessments VALUES ('ra_01a2344a41877749830c42698b167896', 'pay_01a2344a41817115a311eab6fd8f4c7e', 'user_01a2344a400c7587a0eee08df378611e', 40, 'medium', 'review', 'score 40 is medium', '[{"actions":"[Review, IncreaseScore(40), Flag, Notify]","contribution":40,"rule_id":"big"}]', 1796173611394169, '{"flags":["big"],"notified":["big"],"require_2fa":false,"time_zone":"UTC","time_zone_offset_seconds":0}');
INSERT INTO public.risk_assessments VALUES ('ra_01a2344a41a47685bba1b7616f639299', 'pay_01a2344a419a7257b2aee70de7cf2999', 'user_01a2344a400c7587a0eee08df378611e', 0, 'low', 'block', 'rule `evil` asks to block', '[{"actions":"[Block]","contribution":0,"rule_id":"evil"}]', 1796173611421941, '{"flags":[],"notified":[],"require_2fa":false,"time_zone":"UTC","time_zone_offset_seconds":0}');
INSERT INTO public.risk_assessments VALUES ('ra_01a2344a41c374c1b8c87f0b6ed8d60b', 'pay_01a2344a41b974c6a379a5150e9f5a53', 'user_01a2344a400c7587a0eee08df378611e', 40, 'medium', 'reject', 'rule `huge` asks to reject', '[{"actions":"[Review, IncreaseScore(40), Flag, Notify]","contribution":40,"rule_id":"big"},{"actions":"[Reject, RateLimit { key: User, seconds: 60 }, Require2fa]","contribution":0,"rule_id":"huge"}]', 1796173611450968, '{"flags":["big"],"notified":["big"],"rate_limits":[{"key":"user","until_us":1796173671450968,"value":"user_01a2344a400c7587a0eee08df378611e"}],"require_2fa":true,"time_zone":"UTC","time_zone_offset_seconds":0}');


--
-- Data for Name: risk_blocks; Type: TABLE DATA; Schema: public; Owner: -
--

INSERT INTO public.risk_blocks VALUES ('user', 'user_01a2344a400c7587a0eee08df378611e', 1796173671450968, 'huge', 1796173611462846);


--
-- Data for Name: risk_list_items; Type: TABLE DATA; Schema: public; Owner: -
--



--
-- Data for Name: risk_model_scores; Type: TABLE DATA; Schema: public; Owner: -
--



--
-- Data for Name: risk_models; Type: TABLE DATA; Schema: public; Owner: -
--



--
-- Data for Name: risk_rule_versions; Type: TABLE DATA; Schema: public; Owner: -
--

INSERT INTO public.risk_rule_versions VALUES ('big', 1, '{"actions":[{"type":"review"},{"by":40,"type":"increase_score"},{"type":"flag"},{"type":"notify"}],"condition":{"field":"amount","op":"gt","value":20000},"id":"big","name":"big payment","priority":1,"weight":40}', 1796173611312461);
INSERT INTO public.risk_rule_versions VALUES ('huge', 1, '{"actions":[{"type":"reject"},{"key":"user","seconds":60,"type":"rate_limit"},{"type":"require_2fa"}],"condition":{"field":"amount","op":"gt","value":90000},"id":"huge","name":"huge payment","priority":2}', 1796173611329171);
INSERT INTO public.risk_rule_versions VALUES ('evil', 1, '{"actions":[{"type":"block"}],"condition":{"field":"device_id","op":"eq","value":"evil"},"id":"evil","name":"blocked device","priority":3}', 1796173611346055);


--
-- Data for Name: risk_rules; Type: TABLE DATA; Schema: public; Owner: -
--

INSERT INTO public.risk_rules VALUES ('big', 1, '{"actions":[{"type":"review"},{"by":40,"type":"increase_score"},{"type":"flag"},{"type":"notify"}],"condition":{"field":"amount","op":"gt","value":20000},"id":"big","name":"big payment","priority":1,"weight":40}', 0, 1796173611312461);
INSERT INTO public.risk_rules VALUES ('huge', 1, '{"actions":[{"type":"reject"},{"key":"user","seconds":60,"type":"rate_limit"},{"type":"require_2fa"}],"condition":{"field":"amount","op":"gt","value":90000},"id":"huge","name":"huge payment","priority":2}', 0, 1796173611329171);
INSERT INTO public.risk_rules VALUES ('evil', 1, '{"actions":[{"type":"block"}],"condition":{"field":"device_id","op":"eq","value":"evil"},"id":"evil","name":"blocked device","priority":3}', 0, 1796173611346055);


--
-- Data for Name: settlements; Type: TABLE DATA; Schema: public; Owner: -
--

INSERT INTO public.settlements VALUES ('stl_01a2344a420c73d5ba787c719225e36f', 'acct_01a2344a4067731dbba39779baba223a', 'USD', 'completed', 1, 600, 48, 552, 'je_01a2344a420c73d5ba787c74fca0fa78', NULL, 1796173611529324);


--
-- Data for Name: system_accounts; Type: TABLE DATA; Schema: public; Owner: -
--

INSERT INTO public.system_accounts VALUES ('fees', 'USD', 'acct_01a2344a420c73d5ba787c72662fa3e2');
INSERT INTO public.system_accounts VALUES ('settlement', 'USD', 'acct_01a2344a420c73d5ba787c7372662158');


--
-- Data for Name: task_leases; Type: TABLE DATA; Schema: public; Owner: -
--

INSERT INTO public.task_leases VALUES ('expire_pending', '24452-08523c60', 1796173613589204);
INSERT INTO public.task_leases VALUES ('webhook_delivery', '24452-08523c60', 1796173613592176);


--
-- Data for Name: task_runs; Type: TABLE DATA; Schema: public; Owner: -
--



--
-- Data for Name: transfers; Type: TABLE DATA; Schema: public; Owner: -
--

INSERT INTO public.transfers VALUES ('tr_01a2344a409d7411837d94571f8b006f', 'acct_01a2344a40277485a8bb70794dcbd89b', 'acct_01a2344a404877ca9c9668405684e671', 'USD', 500000, 500000, 'posted', 0, NULL, NULL, '{}', NULL, NULL, NULL, 1796173611165726, 1796173611165726);
INSERT INTO public.transfers VALUES ('tr_01a2344a40c2715093bfae1db63a4e0e', 'acct_01a2344a40277485a8bb70794dcbd89b', 'acct_01a2344a404877ca9c9668405684e671', 'USD', 700, 0, 'voided', 1, NULL, NULL, '{}', 1796177211202431, NULL, NULL, 1796173611202800, 1796173611232751);
INSERT INTO public.transfers VALUES ('tr_01a2344a40f1714082b2af6fb80cac3a', 'acct_01a2344a40277485a8bb70794dcbd89b', 'acct_01a2344a404877ca9c9668405684e671', 'USD', 900, 900, 'posted', 1, NULL, NULL, '{}', 1796177211249657, NULL, NULL, 1796173611252278, 1796173611275185);
INSERT INTO public.transfers VALUES ('tr_01a2344a41627668b3324bbde969bf76', 'acct_01a2344a404877ca9c9668405684e671', 'acct_01a2344a4067731dbba39779baba223a', 'USD', 1000, 1000, 'posted', 0, 'payment pay_01a2344a41627668b3324bbc56238581', NULL, '{}', NULL, NULL, NULL, 1796173611362894, 1796173611362894);
INSERT INTO public.transfers VALUES ('tr_01a2344a41817115a311eab7ce1cb671', 'acct_01a2344a404877ca9c9668405684e671', 'acct_01a2344a4067731dbba39779baba223a', 'USD', 25000, 0, 'pending', 1, 'payment pay_01a2344a41817115a311eab6fd8f4c7e', NULL, '{}', NULL, NULL, NULL, 1796173611394169, 1796173611394169);
INSERT INTO public.transfers VALUES ('tr_01a2344a41d971b7a4818adf5f607636', 'acct_01a2344a4067731dbba39779baba223a', 'acct_01a2344a404877ca9c9668405684e671', 'USD', 400, 400, 'posted', 0, 'refund re_01a2344a41d971b7a4818ade1d6ae2cf of payment pay_01a2344a41627668b3324bbc56238581', NULL, '{}', NULL, NULL, NULL, 1796173611482955, 1796173611482955);


--
-- Data for Name: users; Type: TABLE DATA; Schema: public; Owner: -
--

INSERT INTO public.users VALUES ('user_01a2344a400c7587a0eee08df378611e', 'Alice', 'alice@example.com', NULL, 'customer', 'active', 'pending', 1796173611024468, 1796173611024468);


--
-- Data for Name: webhook_deliveries; Type: TABLE DATA; Schema: public; Owner: -
--



--
-- Data for Name: webhook_endpoints; Type: TABLE DATA; Schema: public; Owner: -
--



--
-- Name: entries_seq_seq; Type: SEQUENCE SET; Schema: public; Owner: -
--

SELECT pg_catalog.setval('public.entries_seq_seq', 13, true);


--
-- Name: _sqlx_migrations _sqlx_migrations_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public._sqlx_migrations
    ADD CONSTRAINT _sqlx_migrations_pkey PRIMARY KEY (version);


--
-- Name: accounts accounts_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.accounts
    ADD CONSTRAINT accounts_pkey PRIMARY KEY (id);


--
-- Name: api_keys api_keys_key_hash_key; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.api_keys
    ADD CONSTRAINT api_keys_key_hash_key UNIQUE (key_hash);


--
-- Name: api_keys api_keys_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.api_keys
    ADD CONSTRAINT api_keys_pkey PRIMARY KEY (id);


--
-- Name: audit_events audit_events_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.audit_events
    ADD CONSTRAINT audit_events_pkey PRIMARY KEY (seq);


--
-- Name: clearings clearings_payment_id_key; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.clearings
    ADD CONSTRAINT clearings_payment_id_key UNIQUE (payment_id);


--
-- Name: clearings clearings_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.clearings
    ADD CONSTRAINT clearings_pkey PRIMARY KEY (id);


--
-- Name: credit_scores credit_scores_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.credit_scores
    ADD CONSTRAINT credit_scores_pkey PRIMARY KEY (id);


--
-- Name: entries entries_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.entries
    ADD CONSTRAINT entries_pkey PRIMARY KEY (seq);


--
-- Name: events events_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.events
    ADD CONSTRAINT events_pkey PRIMARY KEY (seq);


--
-- Name: idempotency_keys idempotency_keys_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.idempotency_keys
    ADD CONSTRAINT idempotency_keys_pkey PRIMARY KEY (id);


--
-- Name: journal_entries journal_entries_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.journal_entries
    ADD CONSTRAINT journal_entries_pkey PRIMARY KEY (id);


--
-- Name: ledger_heads ledger_heads_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.ledger_heads
    ADD CONSTRAINT ledger_heads_pkey PRIMARY KEY (id);


--
-- Name: payment_labels payment_labels_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.payment_labels
    ADD CONSTRAINT payment_labels_pkey PRIMARY KEY (id);


--
-- Name: payment_transitions payment_transitions_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.payment_transitions
    ADD CONSTRAINT payment_transitions_pkey PRIMARY KEY (payment_id, seq);


--
-- Name: payments payments_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.payments
    ADD CONSTRAINT payments_pkey PRIMARY KEY (id);


--
-- Name: refunds refunds_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.refunds
    ADD CONSTRAINT refunds_pkey PRIMARY KEY (id);


--
-- Name: relay_cursors relay_cursors_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.relay_cursors
    ADD CONSTRAINT relay_cursors_pkey PRIMARY KEY (name);


--
-- Name: risk_assessments risk_assessments_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.risk_assessments
    ADD CONSTRAINT risk_assessments_pkey PRIMARY KEY (id);


--
-- Name: risk_blocks risk_blocks_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.risk_blocks
    ADD CONSTRAINT risk_blocks_pkey PRIMARY KEY (key_kind, key_value);


--
-- Name: risk_list_items risk_list_items_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.risk_list_items
    ADD CONSTRAINT risk_list_items_pkey PRIMARY KEY (list_name, value);


--
-- Name: risk_model_scores risk_model_scores_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.risk_model_scores
    ADD CONSTRAINT risk_model_scores_pkey PRIMARY KEY (assessment_id, model_id);


--
-- Name: risk_models risk_models_name_version_key; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.risk_models
    ADD CONSTRAINT risk_models_name_version_key UNIQUE (name, version);


--
-- Name: risk_models risk_models_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.risk_models
    ADD CONSTRAINT risk_models_pkey PRIMARY KEY (id);


--
-- Name: risk_rule_versions risk_rule_versions_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.risk_rule_versions
    ADD CONSTRAINT risk_rule_versions_pkey PRIMARY KEY (rule_id, version);


--
-- Name: risk_rules risk_rules_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.risk_rules
    ADD CONSTRAINT risk_rules_pkey PRIMARY KEY (id);


--
-- Name: settlements settlements_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.settlements
    ADD CONSTRAINT settlements_pkey PRIMARY KEY (id);


--
-- Name: system_accounts system_accounts_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.system_accounts
    ADD CONSTRAINT system_accounts_pkey PRIMARY KEY (purpose, currency);


--
-- Name: task_leases task_leases_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.task_leases
    ADD CONSTRAINT task_leases_pkey PRIMARY KEY (name);


--
-- Name: task_runs task_runs_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.task_runs
    ADD CONSTRAINT task_runs_pkey PRIMARY KEY (id);


--
-- Name: transfers transfers_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.transfers
    ADD CONSTRAINT transfers_pkey PRIMARY KEY (id);


--
-- Name: users users_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.users
    ADD CONSTRAINT users_pkey PRIMARY KEY (id);


--
-- Name: webhook_deliveries webhook_deliveries_endpoint_id_event_seq_key; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.webhook_deliveries
    ADD CONSTRAINT webhook_deliveries_endpoint_id_event_seq_key UNIQUE (endpoint_id, event_seq);


--
-- Name: webhook_deliveries webhook_deliveries_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.webhook_deliveries
    ADD CONSTRAINT webhook_deliveries_pkey PRIMARY KEY (id);


--
-- Name: webhook_endpoints webhook_endpoints_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.webhook_endpoints
    ADD CONSTRAINT webhook_endpoints_pkey PRIMARY KEY (id);


--
-- Name: accounts_user; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX accounts_user ON public.accounts USING btree (user_id);


--
-- Name: audit_actor; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX audit_actor ON public.audit_events USING btree (actor, seq);


--
-- Name: audit_resource; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX audit_resource ON public.audit_events USING btree (resource_id, seq);


--
-- Name: audit_time; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX audit_time ON public.audit_events USING btree (created_at);


--
-- Name: clearings_pending; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX clearings_pending ON public.clearings USING btree (status, destination_account_id, id);


--
-- Name: clearings_settlement; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX clearings_settlement ON public.clearings USING btree (settlement_id);


--
-- Name: credit_scores_created; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX credit_scores_created ON public.credit_scores USING btree (created_at);


--
-- Name: entries_account; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX entries_account ON public.entries USING btree (account_id, seq);


--
-- Name: entries_account_time; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX entries_account_time ON public.entries USING btree (account_id, created_at);


--
-- Name: events_type; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX events_type ON public.events USING btree (type, seq);


--
-- Name: idempotency_expiry; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX idempotency_expiry ON public.idempotency_keys USING btree (expires_at);


--
-- Name: payment_labels_payment; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX payment_labels_payment ON public.payment_labels USING btree (payment_id, id);


--
-- Name: payments_account_time; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX payments_account_time ON public.payments USING btree (source_account_id, created_at);


--
-- Name: payments_destination; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX payments_destination ON public.payments USING btree (destination_account_id, id);


--
-- Name: payments_device_time; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX payments_device_time ON public.payments USING btree (device_id, created_at);


--
-- Name: payments_ip_time; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX payments_ip_time ON public.payments USING btree (ip_address, created_at);


--
-- Name: payments_merchant_time; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX payments_merchant_time ON public.payments USING btree (merchant_id, created_at);


--
-- Name: payments_source; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX payments_source ON public.payments USING btree (source_account_id, id);


--
-- Name: payments_status; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX payments_status ON public.payments USING btree (status, id);


--
-- Name: payments_user; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX payments_user ON public.payments USING btree (user_id, created_at);


--
-- Name: refunds_payment; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX refunds_payment ON public.refunds USING btree (payment_id, id);


--
-- Name: risk_assessments_user; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX risk_assessments_user ON public.risk_assessments USING btree (user_id, id);


--
-- Name: risk_model_scores_model; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX risk_model_scores_model ON public.risk_model_scores USING btree (model_id, created_at);


--
-- Name: task_runs_name; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX task_runs_name ON public.task_runs USING btree (name, id);


--
-- Name: transfers_destination; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX transfers_destination ON public.transfers USING btree (destination_account_id, id);


--
-- Name: transfers_expiry; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX transfers_expiry ON public.transfers USING btree (expires_at) WHERE (status = 'pending'::text);


--
-- Name: transfers_source; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX transfers_source ON public.transfers USING btree (source_account_id, id);


--
-- Name: webhook_deliveries_due; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX webhook_deliveries_due ON public.webhook_deliveries USING btree (status, next_attempt_at);


--
-- Name: webhook_deliveries_endpoint; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX webhook_deliveries_endpoint ON public.webhook_deliveries USING btree (endpoint_id, id);


--
-- Name: entries entries_no_update; Type: TRIGGER; Schema: public; Owner: -
--

CREATE TRIGGER entries_no_update BEFORE DELETE OR UPDATE ON public.entries FOR EACH ROW EXECUTE FUNCTION public.rialto_entries_append_only();


--
-- Name: accounts accounts_user_id_fkey; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.accounts
    ADD CONSTRAINT accounts_user_id_fkey FOREIGN KEY (user_id) REFERENCES public.users(id);


--
-- Name: clearings clearings_payment_id_fkey; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.clearings
    ADD CONSTRAINT clearings_payment_id_fkey FOREIGN KEY (payment_id) REFERENCES public.payments(id);


--
-- Name: clearings clearings_settlement_id_fkey; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.clearings
    ADD CONSTRAINT clearings_settlement_id_fkey FOREIGN KEY (settlement_id) REFERENCES public.settlements(id);


--
-- Name: entries entries_account_id_fkey; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.entries
    ADD CONSTRAINT entries_account_id_fkey FOREIGN KEY (account_id) REFERENCES public.accounts(id);


--
-- Name: entries entries_journal_entry_id_fkey; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.entries
    ADD CONSTRAINT entries_journal_entry_id_fkey FOREIGN KEY (journal_entry_id) REFERENCES public.journal_entries(id);


--
-- Name: entries entries_transfer_id_fkey; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.entries
    ADD CONSTRAINT entries_transfer_id_fkey FOREIGN KEY (transfer_id) REFERENCES public.transfers(id);


--
-- Name: payment_transitions payment_transitions_payment_id_fkey; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.payment_transitions
    ADD CONSTRAINT payment_transitions_payment_id_fkey FOREIGN KEY (payment_id) REFERENCES public.payments(id);


--
-- Name: payments payments_transfer_id_fkey; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.payments
    ADD CONSTRAINT payments_transfer_id_fkey FOREIGN KEY (transfer_id) REFERENCES public.transfers(id);


--
-- Name: refunds refunds_payment_id_fkey; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.refunds
    ADD CONSTRAINT refunds_payment_id_fkey FOREIGN KEY (payment_id) REFERENCES public.payments(id);


--
-- Name: refunds refunds_transfer_id_fkey; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.refunds
    ADD CONSTRAINT refunds_transfer_id_fkey FOREIGN KEY (transfer_id) REFERENCES public.transfers(id);


--
-- Name: system_accounts system_accounts_account_id_fkey; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.system_accounts
    ADD CONSTRAINT system_accounts_account_id_fkey FOREIGN KEY (account_id) REFERENCES public.accounts(id);


--
-- Name: transfers transfers_destination_account_id_fkey; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.transfers
    ADD CONSTRAINT transfers_destination_account_id_fkey FOREIGN KEY (destination_account_id) REFERENCES public.accounts(id);


--
-- Name: transfers transfers_source_account_id_fkey; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.transfers
    ADD CONSTRAINT transfers_source_account_id_fkey FOREIGN KEY (source_account_id) REFERENCES public.accounts(id);


--
-- Name: webhook_deliveries webhook_deliveries_endpoint_id_fkey; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.webhook_deliveries
    ADD CONSTRAINT webhook_deliveries_endpoint_id_fkey FOREIGN KEY (endpoint_id) REFERENCES public.webhook_endpoints(id);


--
-- Name: webhook_deliveries webhook_deliveries_event_seq_fkey; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.webhook_deliveries
    ADD CONSTRAINT webhook_deliveries_event_seq_fkey FOREIGN KEY (event_seq) REFERENCES public.events(seq);


--
-- PostgreSQL database dump complete
--


