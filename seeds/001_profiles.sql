-- Two people who journal with MindMirror: Supabase users first, then their profiles.
INSERT INTO auth.users (id, email) VALUES
    ('00000000-0000-4000-8000-000000000001', 'ada@example.com'),
    ('00000000-0000-4000-8000-000000000002', 'grace@example.com');

INSERT INTO profiles (id, display_name, timezone) VALUES
    ('00000000-0000-4000-8000-000000000001', 'Ada Example', 'Europe/London'),
    ('00000000-0000-4000-8000-000000000002', 'Grace Sample', 'America/New_York');

INSERT INTO tags (id, profile_id, name) VALUES
    ('00000000-0000-4000-8000-0000000000a1', '00000000-0000-4000-8000-000000000001', 'gratitude'),
    ('00000000-0000-4000-8000-0000000000a2', '00000000-0000-4000-8000-000000000001', 'work'),
    ('00000000-0000-4000-8000-0000000000a3', '00000000-0000-4000-8000-000000000002', 'sleep');
