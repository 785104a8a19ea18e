-- studies_by_product: Studies grouped by cell product: tissue source, donor type, culture, with patients and the dose given.
SELECT p.tissue_source, p.donor_type, p.culture, p.name AS product, p.study_id,
       o.level, o.n_patients, o.n_patients_reported, o.dose_summary, o.n_deaths
FROM products p
JOIN study_overview o ON o.study_id = p.study_id
ORDER BY p.tissue_source, p.study_id, p.name
