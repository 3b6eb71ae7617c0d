-- A few entries, one of them tagged twice.
INSERT INTO journal_entries (id, profile_id, title, body, mood, created_at) VALUES
    ('00000000-0000-4000-8000-0000000000e1', '00000000-0000-4000-8000-000000000001',
     'A good start', 'Walked to the river before work; the fog lifted by nine.', 'good',
     now() - interval '2 days'),
    ('00000000-0000-4000-8000-0000000000e2', '00000000-0000-4000-8000-000000000001',
     'Deadline week', 'Too many meetings. Wrote down three things that went well anyway.',
     'low', now() - interval '1 day'),
    ('00000000-0000-4000-8000-0000000000e3', '00000000-0000-4000-8000-000000000002',
     'Slept badly', 'Woke at 3am; read until 4. Trying no screens after ten tonight.',
     'neutral', now());

INSERT INTO entry_tags (entry_id, tag_id) VALUES
    ('00000000-0000-4000-8000-0000000000e1', '00000000-0000-4000-8000-0000000000a1'),
    ('00000000-0000-4000-8000-0000000000e2', '00000000-0000-4000-8000-0000000000a1'),
    ('00000000-0000-4000-8000-0000000000e2', '00000000-0000-4000-8000-0000000000a2'),
    ('00000000-0000-4000-8000-0000000000e3', '00000000-0000-4000-8000-0000000000a3');
