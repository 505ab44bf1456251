-- Credit decisions as answered: the applicant's features and the whole answer (score, grade,
-- reason codes, model), so an adverse-action notice can be reproduced later.
CREATE TABLE credit_scores (
    id          TEXT PRIMARY KEY,
    applicant   TEXT NOT NULL,
    answer      TEXT NOT NULL,
    score       BIGINT NOT NULL,
    grade       TEXT NOT NULL,
    created_by  TEXT NOT NULL,
    created_at  BIGINT NOT NULL
);
CREATE INDEX credit_scores_created ON credit_scores(created_at);
