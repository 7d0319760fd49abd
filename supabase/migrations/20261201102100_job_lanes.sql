-- Lanes (issue 10 #1, contract §8): booking and payment jobs get worker capacity no other
-- type can take. Each job type belongs to a lane; a worker runs the `payments` lane in
-- handler slots of its own (WORKER_PAYMENT_SLOTS, docs/jobs.md) and claims each lane's types
-- separately, so however many long jobs fill the `general` slots, a booking's PaymentIntent
-- is created at once. Workers read the lanes when they start: restart them after a change.

alter table private.job_types
add column if not exists lane text not null default 'general';

do $$
begin
    if not exists (
        select 1 from pg_catalog.pg_constraint
        where conname = 'job_types_lane_check' and conrelid = 'private.job_types'::regclass
    ) then
        alter table private.job_types
        add constraint job_types_lane_check check (lane in ('general', 'payments'));
    end if;
end
$$;

comment on column private.job_types.lane is
'general, or payments: run in worker slots reserved for bookings and payments (docs/jobs.md).';

update private.job_types
set lane = 'payments'
where type like 'payment.%' or type like 'booking.%';
