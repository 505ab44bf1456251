-- Named block/allow lists the risk rules test with `in_list` (user ids, devices, IPs,
-- countries, merchants, card BINs: any string value of a payment field).
CREATE TABLE risk_list_items (
    list_name   TEXT NOT NULL,
    value       TEXT NOT NULL,
    created_at  BIGINT NOT NULL,
    PRIMARY KEY (list_name, value)
);
