-- Lost claims: a claim can commit while its answer never reaches the worker (the connection
-- breaks between the commit and the result, e.g. during a Postgres restart). The job is then
-- processing under a lease of that worker, which does not know it has it, until the lease
-- ends. The worker asks for the jobs it holds (after a claim failed, and every few seconds)
-- and gives back, through release_jobs, those it never received.

create or replace function private.held_jobs(worker_id text)
returns table (job_id uuid, attempt int)
language sql
stable
security definer
set search_path = ''
as $$
    select l.job_id, l.attempt
    from private.job_leases as l
    where l.worker_id = held_jobs.worker_id
$$;

comment on function private.held_jobs(text) is
'The jobs (and attempts) a worker holds leases on; the worker releases those it never received.';

-- No index on worker_id: job_leases holds only the processing jobs (a small table, read every
-- few seconds), while every claim and completion would pay for the index.

revoke all on function private.held_jobs(text) from public;
grant execute on function private.held_jobs(text) to wayfare_worker;
