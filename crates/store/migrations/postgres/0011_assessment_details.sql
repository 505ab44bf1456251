-- What an assessment saw and did besides the rules that fired: history facts (new device,
-- travel speed...), flags, a required second factor, alerts sent, keys rate-limited (JSON).
ALTER TABLE risk_assessments ADD COLUMN details TEXT;
