-- Users, login sessions and API tokens of the web app.
SELECT 1;
