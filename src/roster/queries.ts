// SQL both backends share verbatim (only the parameter marker differs).

/** The latest consent decision per partner and category of one member (ties: the later record). */
export const latestConsentsSql = (param: string): string => `SELECT * FROM (
    SELECT c.*, ROW_NUMBER() OVER (PARTITION BY partner_id, category ORDER BY recorded_at DESC, id DESC) AS rn
    FROM roster_consents c WHERE member_id = ${param}) AS latest
  WHERE rn = 1 ORDER BY partner_id, category`;
