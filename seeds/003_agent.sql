-- One conversation with the journaling agent.
INSERT INTO agent_conversations (id, profile_id, title) VALUES
    ('00000000-0000-4000-8000-0000000000c1', '00000000-0000-4000-8000-000000000001',
     'Reflecting on deadline week');

INSERT INTO agent_messages (conversation_id, role, content, token_count, metadata, created_at)
VALUES
    ('00000000-0000-4000-8000-0000000000c1', 'system',
     'You help the user reflect on their journal with kindness and brevity.', 14, '{}',
     now() - interval '3 minutes'),
    ('00000000-0000-4000-8000-0000000000c1', 'user',
     'Why do I feel drained on meeting-heavy days?', 11, '{"entry_id": "00000000-0000-4000-8000-0000000000e2"}',
     now() - interval '2 minutes'),
    ('00000000-0000-4000-8000-0000000000c1', 'assistant',
     'Your entries on those days mention little focus time. Could you protect one hour?', 18,
     '{"model": "local-dev", "latency_ms": 420}', now() - interval '1 minute');
