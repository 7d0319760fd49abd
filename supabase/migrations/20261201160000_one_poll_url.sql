-- ============================================================================
-- One pollUrl (issue 16): the address a client polls for a job was built in two places
-- (job_accepted, the 202 body of start_job/start_research, and cancel_user_job). It is now
-- built only in private.job_accepted; cancel_user_job takes that body and overrides status.
-- ============================================================================

-- cancel_job's part that needs the definer. Queued: cancelled now. Processing: asked to stop
-- (the worker sees it at once through NOTIFY wayfare_job_cancel, at the latest at its next
-- heartbeat). Finished: 409. Someone else's or missing: 404.
create or replace function private.cancel_user_job(job_id uuid)
returns jsonb
language plpgsql
security definer
set search_path = ''
as $$
declare
    v_user uuid := private.require_user();
    v_job public.jobs;
begin
    select j.* into v_job from public.jobs as j
    where j.id = cancel_user_job.job_id and j.user_id = v_user
    for update;
    if not found then
        perform private.raise_error('NOT_FOUND', 'Job not found.', 'job_id');
    end if;
    -- jobs the system started for a user (payments, confirmations) are stopped through
    -- their own RPC (cancel_booking), never directly: that would strand a booking
    if not exists (
        select 1 from private.job_types as t where t.type = v_job.type and t.user_startable
    ) then
        perform private.raise_error(
            'INVALID_STATE', 'This job belongs to a booking: cancel the booking instead.',
            'job_id'
        );
    end if;
    if v_job.status = 'queued' then
        update public.jobs as j
        set status = 'cancelled', completed_at = pg_catalog.now()
        where j.id = v_job.id
        returning j.* into v_job;
    elsif v_job.status = 'processing' then
        update public.jobs as j
        set cancel_requested_at = coalesce(j.cancel_requested_at, pg_catalog.now())
        where j.id = v_job.id
        returning j.* into v_job;
        perform pg_catalog.pg_notify('wayfare_job_cancel', v_job.id::text);
    else
        perform private.raise_error(
            'INVALID_STATE', pg_catalog.format('The job is already %s.', v_job.status), 'job_id'
        );
    end if;
    -- the 202 body of start_job (jobId, pollUrl), with the job's status as it is now
    return private.job_accepted(v_job.id) || pg_catalog.jsonb_build_object(
        'status', v_job.status,
        'cancelRequestedAt', v_job.cancel_requested_at
    );
end;
$$;
