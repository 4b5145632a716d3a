-- Opening hours per site (issue 13): a customer's sites may keep different hours (a mall's atrium and
-- its cinema floor).  'site=HH:MM-HH:MM;site=HH:MM-HH:MM' in the customer's local time, as
-- import-customers' optional site_hours column gives it; NULL or a site not named: the customer's
-- hours (imported, else learned).  A robot's site is the one it reports on (robots.site).
ALTER TABLE customers ADD COLUMN site_hours TEXT;
