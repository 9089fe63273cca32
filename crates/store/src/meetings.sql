-- Progress monitoring: continuous-improvement meetings, notes and action items.
SELECT 1;
