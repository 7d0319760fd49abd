export type Json =
  | string
  | number
  | boolean
  | null
  | { [key: string]: Json | undefined }
  | Json[]

export type Database = {
  public: {
    Tables: {
      activities: {
        Row: {
          client_temp_id: string | null
          created_at: string
          ends_at: string | null
          id: string
          location: string | null
          notes: string | null
          starts_at: string | null
          title: string
          trip_id: string
          updated_at: string
          user_id: string
        }
        Insert: {
          client_temp_id?: string | null
          created_at?: string
          ends_at?: string | null
          id?: string
          location?: string | null
          notes?: string | null
          starts_at?: string | null
          title: string
          trip_id: string
          updated_at?: string
          user_id?: string
        }
        Update: {
          client_temp_id?: string | null
          created_at?: string
          ends_at?: string | null
          id?: string
          location?: string | null
          notes?: string | null
          starts_at?: string | null
          title?: string
          trip_id?: string
          updated_at?: string
          user_id?: string
        }
        Relationships: [
          {
            foreignKeyName: "activities_trip_owner_fkey"
            columns: ["trip_id", "user_id"]
            referencedRelation: "trips"
            referencedColumns: ["id", "user_id"]
          },
        ]
      }
      bookings: {
        Row: {
          amount: number
          amount_refunded: number
          cancel_job_id: string | null
          cancel_requested_at: string | null
          cancelled_at: string | null
          check_in: string
          check_out: string
          client_secret: string | null
          completed_at: string | null
          confirmed_at: string | null
          created_at: string
          currency: string
          error: string | null
          hotel_id: string
          id: string
          last_event_created: string | null
          metadata: NonNullable<Json>
          paid_at: string | null
          payment_intent_id: string | null
          payment_method: string | null
          refunded_at: string | null
          request_id: string | null
          status: string
          updated_at: string
          user_id: string
        }
        Insert: {
          amount: number
          amount_refunded?: number
          cancel_job_id?: string | null
          cancel_requested_at?: string | null
          cancelled_at?: string | null
          check_in: string
          check_out: string
          client_secret?: string | null
          completed_at?: string | null
          confirmed_at?: string | null
          created_at?: string
          currency: string
          error?: string | null
          hotel_id: string
          id?: string
          last_event_created?: string | null
          metadata?: NonNullable<Json>
          paid_at?: string | null
          payment_intent_id?: string | null
          payment_method?: string | null
          refunded_at?: string | null
          request_id?: string | null
          status?: string
          updated_at?: string
          user_id: string
        }
        Update: {
          amount?: number
          amount_refunded?: number
          cancel_job_id?: string | null
          cancel_requested_at?: string | null
          cancelled_at?: string | null
          check_in?: string
          check_out?: string
          client_secret?: string | null
          completed_at?: string | null
          confirmed_at?: string | null
          created_at?: string
          currency?: string
          error?: string | null
          hotel_id?: string
          id?: string
          last_event_created?: string | null
          metadata?: NonNullable<Json>
          paid_at?: string | null
          payment_intent_id?: string | null
          payment_method?: string | null
          refunded_at?: string | null
          request_id?: string | null
          status?: string
          updated_at?: string
          user_id?: string
        }
        Relationships: [
          {
            foreignKeyName: "bookings_hotel_id_fkey"
            columns: ["hotel_id"]
            referencedRelation: "hotels"
            referencedColumns: ["id"]
          },
        ]
      }
      hotels: {
        Row: {
          active: boolean
          city: string
          created_at: string
          currency: string
          id: string
          name: string
          nightly_rate_cents: number
          updated_at: string
        }
        Insert: {
          active?: boolean
          city: string
          created_at?: string
          currency: string
          id?: string
          name: string
          nightly_rate_cents: number
          updated_at?: string
        }
        Update: {
          active?: boolean
          city?: string
          created_at?: string
          currency?: string
          id?: string
          name?: string
          nightly_rate_cents?: number
          updated_at?: string
        }
        Relationships: []
      }
      jobs: {
        Row: {
          attempts: number
          cancel_requested_at: string | null
          checkpoints: NonNullable<Json>
          completed_at: string | null
          created_at: string
          error: string | null
          expires_at: string
          id: string
          input: NonNullable<Json>
          max_attempts: number
          priority: number
          progress: number
          request_id: string | null
          result: Json | null
          run_at: string
          started_at: string | null
          status: string
          type: string
          user_id: string | null
        }
        Insert: {
          attempts?: number
          cancel_requested_at?: string | null
          checkpoints?: NonNullable<Json>
          completed_at?: string | null
          created_at?: string
          error?: string | null
          expires_at?: string
          id?: string
          input?: NonNullable<Json>
          max_attempts?: number
          priority?: number
          progress?: number
          request_id?: string | null
          result?: Json | null
          run_at?: string
          started_at?: string | null
          status?: string
          type: string
          user_id?: string | null
        }
        Update: {
          attempts?: number
          cancel_requested_at?: string | null
          checkpoints?: NonNullable<Json>
          completed_at?: string | null
          created_at?: string
          error?: string | null
          expires_at?: string
          id?: string
          input?: NonNullable<Json>
          max_attempts?: number
          priority?: number
          progress?: number
          request_id?: string | null
          result?: Json | null
          run_at?: string
          started_at?: string | null
          status?: string
          type?: string
          user_id?: string | null
        }
        Relationships: []
      }
      profiles: {
        Row: {
          ai_consent: string
          created_at: string
          id: string
          updated_at: string
        }
        Insert: {
          ai_consent?: string
          created_at?: string
          id: string
          updated_at?: string
        }
        Update: {
          ai_consent?: string
          created_at?: string
          id?: string
          updated_at?: string
        }
        Relationships: []
      }
      trips: {
        Row: {
          client_temp_id: string | null
          created_at: string
          destination: string | null
          end_date: string | null
          id: string
          start_date: string | null
          title: string
          updated_at: string
          user_id: string
        }
        Insert: {
          client_temp_id?: string | null
          created_at?: string
          destination?: string | null
          end_date?: string | null
          id?: string
          start_date?: string | null
          title: string
          updated_at?: string
          user_id?: string
        }
        Update: {
          client_temp_id?: string | null
          created_at?: string
          destination?: string | null
          end_date?: string | null
          id?: string
          start_date?: string | null
          title?: string
          updated_at?: string
          user_id?: string
        }
        Relationships: []
      }
    }
    Views: {
      [_ in never]: never
    }
    Functions: {
      cancel_booking: {
        Args: { booking_id?: string; idempotency_key?: string }
        Returns: Json
      }
      cancel_job: { Args: { job_id?: string }; Returns: Json }
      create_activity: {
        Args: {
          client_temp_id?: string
          ends_at?: string
          idempotency_key?: string
          location?: string
          notes?: string
          starts_at?: string
          title?: string
          trip_id?: string
        }
        Returns: Json
      }
      create_booking: {
        Args: {
          check_in?: string
          check_out?: string
          hotel_id?: string
          idempotency_key?: string
        }
        Returns: Json
      }
      create_trip: {
        Args: {
          client_temp_id?: string
          destination?: string
          end_date?: string
          idempotency_key?: string
          start_date?: string
          title?: string
        }
        Returns: Json
      }
      start_job: {
        Args: { idempotency_key?: string; input?: Json; job_type?: string }
        Returns: Json
      }
      start_research: {
        Args: { idempotency_key?: string; query?: string }
        Returns: Json
      }
    }
    Enums: {
      [_ in never]: never
    }
    CompositeTypes: {
      [_ in never]: never
    }
  }
}

type DatabaseWithoutInternals = Omit<Database, "__InternalSupabase">

type DefaultSchema = DatabaseWithoutInternals[Extract<keyof Database, "public">]

export type Tables<
  DefaultSchemaTableNameOrOptions extends
    | keyof (DefaultSchema["Tables"] & DefaultSchema["Views"])
    | { schema: keyof DatabaseWithoutInternals },
  TableName extends (DefaultSchemaTableNameOrOptions extends {
    schema: keyof DatabaseWithoutInternals
  }
    ? keyof (DatabaseWithoutInternals[DefaultSchemaTableNameOrOptions["schema"]]["Tables"] &
        DatabaseWithoutInternals[DefaultSchemaTableNameOrOptions["schema"]]["Views"])
    : never) = never,
> = DefaultSchemaTableNameOrOptions extends {
  schema: keyof DatabaseWithoutInternals
}
  ? (DatabaseWithoutInternals[DefaultSchemaTableNameOrOptions["schema"]]["Tables"] &
      DatabaseWithoutInternals[DefaultSchemaTableNameOrOptions["schema"]]["Views"])[TableName] extends {
      Row: infer R
    }
    ? R
    : never
  : DefaultSchemaTableNameOrOptions extends keyof (DefaultSchema["Tables"] &
        DefaultSchema["Views"])
    ? (DefaultSchema["Tables"] &
        DefaultSchema["Views"])[DefaultSchemaTableNameOrOptions] extends {
        Row: infer R
      }
      ? R
      : never
    : never

export type TablesInsert<
  DefaultSchemaTableNameOrOptions extends
    | keyof DefaultSchema["Tables"]
    | { schema: keyof DatabaseWithoutInternals },
  TableName extends (DefaultSchemaTableNameOrOptions extends {
    schema: keyof DatabaseWithoutInternals
  }
    ? keyof DatabaseWithoutInternals[DefaultSchemaTableNameOrOptions["schema"]]["Tables"]
    : never) = never,
> = DefaultSchemaTableNameOrOptions extends {
  schema: keyof DatabaseWithoutInternals
}
  ? DatabaseWithoutInternals[DefaultSchemaTableNameOrOptions["schema"]]["Tables"][TableName] extends {
      Insert: infer I
    }
    ? I
    : never
  : DefaultSchemaTableNameOrOptions extends keyof DefaultSchema["Tables"]
    ? DefaultSchema["Tables"][DefaultSchemaTableNameOrOptions] extends {
        Insert: infer I
      }
      ? I
      : never
    : never

export type TablesUpdate<
  DefaultSchemaTableNameOrOptions extends
    | keyof DefaultSchema["Tables"]
    | { schema: keyof DatabaseWithoutInternals },
  TableName extends (DefaultSchemaTableNameOrOptions extends {
    schema: keyof DatabaseWithoutInternals
  }
    ? keyof DatabaseWithoutInternals[DefaultSchemaTableNameOrOptions["schema"]]["Tables"]
    : never) = never,
> = DefaultSchemaTableNameOrOptions extends {
  schema: keyof DatabaseWithoutInternals
}
  ? DatabaseWithoutInternals[DefaultSchemaTableNameOrOptions["schema"]]["Tables"][TableName] extends {
      Update: infer U
    }
    ? U
    : never
  : DefaultSchemaTableNameOrOptions extends keyof DefaultSchema["Tables"]
    ? DefaultSchema["Tables"][DefaultSchemaTableNameOrOptions] extends {
        Update: infer U
      }
      ? U
      : never
    : never

export type Enums<
  DefaultSchemaEnumNameOrOptions extends
    | keyof DefaultSchema["Enums"]
    | { schema: keyof DatabaseWithoutInternals },
  EnumName extends (DefaultSchemaEnumNameOrOptions extends {
    schema: keyof DatabaseWithoutInternals
  }
    ? keyof DatabaseWithoutInternals[DefaultSchemaEnumNameOrOptions["schema"]]["Enums"]
    : never) = never,
> = DefaultSchemaEnumNameOrOptions extends {
  schema: keyof DatabaseWithoutInternals
}
  ? DatabaseWithoutInternals[DefaultSchemaEnumNameOrOptions["schema"]]["Enums"][EnumName]
  : DefaultSchemaEnumNameOrOptions extends keyof DefaultSchema["Enums"]
    ? DefaultSchema["Enums"][DefaultSchemaEnumNameOrOptions]
    : never

export type CompositeTypes<
  PublicCompositeTypeNameOrOptions extends
    | keyof DefaultSchema["CompositeTypes"]
    | { schema: keyof DatabaseWithoutInternals },
  CompositeTypeName extends (PublicCompositeTypeNameOrOptions extends {
    schema: keyof DatabaseWithoutInternals
  }
    ? keyof DatabaseWithoutInternals[PublicCompositeTypeNameOrOptions["schema"]]["CompositeTypes"]
    : never) = never,
> = PublicCompositeTypeNameOrOptions extends {
  schema: keyof DatabaseWithoutInternals
}
  ? DatabaseWithoutInternals[PublicCompositeTypeNameOrOptions["schema"]]["CompositeTypes"][CompositeTypeName]
  : PublicCompositeTypeNameOrOptions extends keyof DefaultSchema["CompositeTypes"]
    ? DefaultSchema["CompositeTypes"][PublicCompositeTypeNameOrOptions]
    : never

export const Constants = {
  public: {
    Enums: {},
  },
} as const

